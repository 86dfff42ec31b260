/**
 * npm run bench:flags — the flags SDK against unleash-client@6, then propagation latency.
 *
 * 1. Evaluations per second, in one process, median of 5 runs. Each run times 200,000
 *    evaluations per cell after a 20,000 warm-up, cycling over 10,000 user ids and 4 countries
 *    (the method of research/feature-flags.md §8). The flags are equivalent in both SDKs:
 *      trivial:        on for everyone (Unleash: the `default` strategy)
 *      rule + rollout: country IN [NO, SE, US], then 50% by userId (Unleash: flexibleRollout
 *                      with that constraint, stickiness default, groupId = the flag name)
 *    Rollgate runs offline from a bootstrap ruleset; Unleash from its bootstrap option with
 *    refreshInterval 0 and disableMetrics, so neither touches the network. The bench checks
 *    that both SDKs give every user the same answer (same MurmurHash3 bucketing).
 * 2. Propagation: an API call turns a flag off or on; an SDK in another process (bench/support/
 *    flags-watcher.ts) reports when its evaluations change. p50/p99 over PROPAGATION_CHANGES.
 *    Targets: the real flags service on the embedded default and on Kafka, when it is there;
 *    otherwise (or with BENCH_FLAGS_TARGETS=stand-in) a stand-in HTTP+SSE server in another
 *    process, clearly labelled.
 */
import { InMemStorageProvider, Unleash } from 'unleash-client';
import type { FeatureInterface } from 'unleash-client/lib/feature';
import { FlagsClient } from '@rollgate/flags-sdk';
import { checkoutFlag, simpleFlag } from '@rollgate/flags-sdk/testing';
import {
  propagationTargets,
  measurePropagation,
  type PropagationResult,
} from './support/flags-propagation';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const EVALUATIONS = Number(process.env['BENCH_EVALUATIONS'] ?? 200_000);
const WARM_UP = 20_000;
const USERS = 10_000;
const COUNTRIES = ['NO', 'SE', 'US', 'DE'];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

// ---- the same two flags, in each SDK's format ------------------------------------------------

const TRIVIAL = simpleFlag.key;
const RULE_ROLLOUT = checkoutFlag.key;

const unleashFeatures: FeatureInterface[] = [
  {
    name: TRIVIAL,
    enabled: true,
    type: 'release',
    project: 'default',
    stale: false,
    impressionData: false,
    variants: [],
    strategies: [{ name: 'default', parameters: {}, constraints: [] }],
  },
  {
    name: RULE_ROLLOUT,
    enabled: true,
    type: 'release',
    project: 'default',
    stale: false,
    impressionData: false,
    variants: [],
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: '50', stickiness: 'default', groupId: RULE_ROLLOUT },
        constraints: [
          {
            contextName: 'country',
            operator: 'IN',
            values: ['NO', 'SE', 'US'],
            inverted: false,
            caseInsensitive: false,
          },
        ],
      },
    ],
  } as FeatureInterface,
];

// Contexts are built once, outside the timed loops, in each SDK's own shape.
const rollgateContexts = Array.from({ length: USERS }, (_, i) => ({
  userId: `user-${i}`,
  country: COUNTRIES[i % COUNTRIES.length]!,
}));
const unleashContexts = rollgateContexts.map(({ userId, country }) => ({
  userId,
  properties: { country },
}));

type Evaluate = (flag: string, index: number) => boolean;

interface Cell {
  readonly sdk: string;
  readonly flag: string;
  readonly nsPerEvaluation: number[];
  trueRate: number;
}

function time(evaluate: Evaluate, flag: string): { ns: number; trueRate: number } {
  let on = 0;
  for (let i = 0; i < WARM_UP; i++) if (evaluate(flag, i % USERS)) on++;
  on = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < EVALUATIONS; i++) if (evaluate(flag, i % USERS)) on++;
  const elapsed = Number(process.hrtime.bigint() - started);
  return { ns: elapsed / EVALUATIONS, trueRate: on / EVALUATIONS };
}

async function evaluationBench() {
  const rollgate = new FlagsClient({
    url: 'http://127.0.0.1:9', // never contacted: the client is not started
    environment: 'production',
    bootstrap: { version: 1, flags: [simpleFlag, checkoutFlag] },
  });
  const unleash = new Unleash({
    appName: 'rollgate-bench',
    url: 'http://127.0.0.1:9/api/', // never contacted: refreshInterval 0 disables fetching
    refreshInterval: 0,
    disableMetrics: true,
    skipInstanceCountWarning: true,
    storageProvider: new InMemStorageProvider(),
    bootstrap: { data: unleashFeatures },
  });
  unleash.on('error', () => undefined);
  await new Promise<void>((resolve) =>
    unleash.isSynchronized() ? resolve() : unleash.once('ready', () => resolve()),
  );

  const sdks: Record<string, Evaluate> = {
    '@rollgate/flags-sdk isEnabled': (flag, i) => rollgate.isEnabled(flag, rollgateContexts[i]),
    '@rollgate/flags-sdk getBooleanDetails': (flag, i) =>
      rollgate.getBooleanDetails(flag, false, rollgateContexts[i]).value,
    'unleash-client@6 isEnabled': (flag, i) => unleash.isEnabled(flag, unleashContexts[i]),
  };

  // Same answer for every user? (Both hash "groupId:userId" with MurmurHash3 x86_32, seed 0.)
  const disagreements = rollgateContexts.filter(
    (_, i) =>
      sdks['@rollgate/flags-sdk isEnabled']!(RULE_ROLLOUT, i) !==
      sdks['unleash-client@6 isEnabled']!(RULE_ROLLOUT, i),
  ).length;

  const cells = new Map<string, Cell>();
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, so drift in the machine's speed hits every SDK alike.
    for (const flag of [TRIVIAL, RULE_ROLLOUT]) {
      for (const [sdk, evaluate] of Object.entries(sdks)) {
        const key = `${sdk}|${flag}`;
        const cell = cells.get(key) ?? { sdk, flag, nsPerEvaluation: [], trueRate: 0 };
        const { ns, trueRate } = time(evaluate, flag);
        cell.nsPerEvaluation.push(ns);
        cell.trueRate = trueRate;
        cells.set(key, cell);
      }
    }
  }
  unleash.destroy();
  return { cells: [...cells.values()], disagreements };
}

function printEvaluations(cells: Cell[], disagreements: number) {
  const nsOf = (sdk: string, flag: string) =>
    median(cells.find((c) => c.sdk === sdk && c.flag === flag)!.nsPerEvaluation);
  const rows = cells.map((cell) => {
    const ns = median(cell.nsPerEvaluation);
    return {
      SDK: cell.sdk,
      flag: cell.flag === TRIVIAL ? 'trivial' : 'rule + 50% rollout',
      'ns/eval (median)': ns.toFixed(0),
      'evals/s (median)': `${(1e9 / ns / 1e6).toFixed(2)} M`,
      'min–max ns': `${Math.min(...cell.nsPerEvaluation).toFixed(0)}–${Math.max(...cell.nsPerEvaluation).toFixed(0)}`,
      'true rate': `${(cell.trueRate * 100).toFixed(1)}%`,
    };
  });
  console.log(
    `\nEvaluations: median of ${RUNS} runs × ${EVALUATIONS.toLocaleString('en')} (node ${process.version})`,
  );
  console.table(rows);
  const ours = '@rollgate/flags-sdk isEnabled';
  const theirs = 'unleash-client@6 isEnabled';
  const speedup = (flag: string) => nsOf(theirs, flag) / nsOf(ours, flag);
  const mark = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const ruleNs = nsOf(ours, RULE_ROLLOUT);
  console.log('Goals (issue 6):');
  console.log(
    `  ${mark(speedup(TRIVIAL) >= 2)} trivial flag: ×${speedup(TRIVIAL).toFixed(1)} faster than unleash-client (goal ≥ ×2)`,
  );
  console.log(
    `  ${mark(speedup(RULE_ROLLOUT) >= 2)} rule + rollout: ×${speedup(RULE_ROLLOUT).toFixed(1)} faster than unleash-client (goal ≥ ×2)`,
  );
  console.log(
    `  ${mark(ruleNs < 1000)} rule + rollout: ${ruleNs.toFixed(0)} ns per evaluation (goal < 1 µs)`,
  );
  console.log(
    `  ${mark(disagreements === 0)} same answer as unleash-client for all ${USERS.toLocaleString('en')} users: ${disagreements} disagreements`,
  );
}

function printPropagation(results: PropagationResult[]) {
  if (results.length === 0) return;
  console.log('\nPropagation: API call → an SDK in another process serves the change');
  console.table(
    results.map((result) => ({
      target: result.target,
      changes: result.latenciesMs.length,
      'p50 ms': median(result.latenciesMs).toFixed(1),
      'p99 ms': percentile(result.latenciesMs, 0.99).toFixed(1),
      'max ms': Math.max(...result.latenciesMs).toFixed(1),
      'API call p50 ms': median(result.apiMs).toFixed(1),
      note: result.note,
    })),
  );
  for (const result of results) {
    const p99 = percentile(result.latenciesMs, 0.99);
    console.log(
      `  ${p99 < 200 ? 'PASS' : 'MISS'} ${result.target}: p99 ${p99.toFixed(1)} ms (goal < 200 ms)`,
    );
  }
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function main() {
  const started = Date.now();
  const { cells, disagreements } = await evaluationBench();
  printEvaluations(cells, disagreements);
  const results: PropagationResult[] = [];
  for (const target of await propagationTargets()) {
    try {
      results.push(await measurePropagation(target));
    } catch (error) {
      console.log(`  propagation on ${target.name} failed: ${(error as Error).message}`);
    }
  }
  printPropagation(results);
  console.log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
