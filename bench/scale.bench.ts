/**
 * npm run bench:scale — many services on one machine: the embedded host (one process: orchestrator,
 * router with the embedded proxy, analysis, flags, migrations on the embedded log) with
 * ROLLGATE_FLEET=simulated, so BENCH_SERVICES services × BENCH_INSTANCES instances are in-process
 * listeners rather than child processes. Only the instances and the users are simulated: every
 * route goes through the data plane, every analysis reads its counters, every step is decided by
 * the reconciler from the log.
 *
 * 1. Deploy: a first release of every service (BENCH_INSTANCES replicas each).
 * 2. Canary releases: BENCH_RELEASES releases (default one per service), Poisson arrivals at
 *    BENCH_ARRIVALS_PER_MIN, BENCH_BAD_SHARE of them bad builds (30 % errors against 0.2 %), steps
 *    25 % and 50 % of BENCH_STEP_SECONDS each, judged by the analysis on the simulated users'
 *    requests through the proxy.
 *
 * Times come from the log (each event's occurredAt): request → first step started, request →
 * verdict (succeeded or rolled back), and verdict → the orchestrator's decision (the reconcile
 * lag: AnalysisVerdictReached → ReleaseStepCompleted or ReleaseRollbackStarted).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '@rollgate/contracts';
import { issueToken, openEventLog, parseConfig } from '@rollgate/platform';
import {
  api,
  portsEnv,
  startEmbeddedHost,
  stop,
  tempDir,
  type Proc,
} from '../apps/e2e/src/support';

const SERVICES = Number(process.env['BENCH_SERVICES'] ?? 500);
const INSTANCES = Number(process.env['BENCH_INSTANCES'] ?? 4);
const RELEASES = Number(process.env['BENCH_RELEASES'] ?? SERVICES);
const ARRIVALS_PER_MIN = Number(process.env['BENCH_ARRIVALS_PER_MIN'] ?? 60);
const BAD_SHARE = Number(process.env['BENCH_BAD_SHARE'] ?? 0.05);
const STEP_SECONDS = Number(process.env['BENCH_STEP_SECONDS'] ?? 10);
const USERS_RPS = process.env['BENCH_USERS_RPS'] ?? '12';
const DEPLOY_CONCURRENCY = 10;
const SETTLE_TIMEOUT_MS = Number(process.env['BENCH_TIMEOUT_S'] ?? 900) * 1000;
const TERMINAL = ['succeeded', 'rolled-back', 'aborted'];

const newDigest = () => `sha256:${randomBytes(32).toString('hex')}`;
const quantile = (values: number[], q: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
};
const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : 'n/a');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let lastProgress = 0;
/** A progress line on stderr at most every 10 s (the table goes to stdout). */
const progress = (line: string) => {
  if (Date.now() - lastProgress < 10_000) return;
  lastProgress = Date.now();
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

interface Build {
  digest: string;
  version: string;
  bad: boolean;
}

interface Host {
  env: Record<string, string>;
  token: string;
  proc: Proc;
}

// ---------- the process: CPU and RSS from /proc ----------

const TICKS = 100; // USER_HZ on Linux

interface Usage {
  cpuSeconds: number;
  rssMb: number;
}

function usage(pid: number): Usage {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds, rssMb: Number(rss?.[1] ?? 0) / 1024 };
}

class Sampler {
  private timer: NodeJS.Timeout | null = null;
  readonly rss: number[] = [];
  private first: Usage & { at: number } = { cpuSeconds: 0, rssMb: 0, at: 0 };
  private last: Usage & { at: number } = { cpuSeconds: 0, rssMb: 0, at: 0 };

  constructor(private readonly pid: number) {}

  start(): void {
    this.first = this.last = { ...usage(this.pid), at: Date.now() };
    this.timer = setInterval(() => {
      this.last = { ...usage(this.pid), at: Date.now() };
      this.rss.push(this.last.rssMb);
    }, 2_000);
  }

  stop(): { cpuPercent: number; rssMaxMb: number; rssEndMb: number } {
    if (this.timer) clearInterval(this.timer);
    this.last = { ...usage(this.pid), at: Date.now() };
    const elapsed = (this.last.at - this.first.at) / 1000;
    return {
      cpuPercent: (100 * (this.last.cpuSeconds - this.first.cpuSeconds)) / Math.max(1, elapsed),
      rssMaxMb: Math.max(this.last.rssMb, ...this.rss),
      rssEndMb: this.last.rssMb,
    };
  }
}

// ---------- releases ----------

async function boot(profiles: string): Promise<Host> {
  const dir = tempDir('bench-scale');
  const env = {
    ...portsEnv(18500),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_FLEET_PROFILES: profiles,
    ROLLGATE_FLEET: 'simulated',
    ROLLGATE_SIMULATED_USERS_RPS: USERS_RPS,
    ROLLGATE_SIMULATED_RPS: '2',
    // 12 req/s per service leaves ~3 req/s on a 25 % canary: judge on 10-s intervals of 20+.
    ROLLGATE_ANALYSIS_MIN_REQUESTS: '20',
  };
  const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'bench', scopes: ['admin'] });
  const proc = await startEmbeddedHost(env);
  return { env, token, proc };
}

async function deploy(
  host: Host,
  service: string,
  build: Build,
  plan: object,
  first: boolean,
): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const created = await api(
      `${host.env['ROLLGATE_ORCHESTRATOR_URL']}/releases`,
      'POST',
      host.token,
      {
        service,
        artifact: { name: service, digest: build.digest },
        version: build.version,
        strategy: 'canary',
        plan: { replicas: INSTANCES, ...plan },
        first,
      },
    ).catch((error: Error) => ({
      status: 0,
      body: { error: error.message } as Record<string, unknown>,
    }));
    if (created.status === 201) return created.body['releaseId'] as string;
    // A request that timed out on a busy host may have been accepted: take the release it made.
    const details = created.body['details'] as { activeReleaseId?: string }[] | undefined;
    if (created.status === 409 && attempt > 0 && details?.[0]?.activeReleaseId)
      return details[0].activeReleaseId;
    if (attempt >= 10) throw new Error(`deploy of ${service} refused: ${JSON.stringify(created)}`);
    await sleep(1_000 * (attempt + 1));
  }
}

/** Polls each release until it is terminal or `deadline` passes; returns the phase of each. */
async function settleAll(
  host: Host,
  ids: string[],
  deadline: number,
  reasons: Map<string, string>,
): Promise<Map<string, string>> {
  const phases = new Map<string, string>();
  const open = new Set(ids);
  while (open.size > 0 && Date.now() < deadline) {
    const batch = [...open];
    for (let i = 0; i < batch.length; i += 25) {
      await Promise.all(
        batch.slice(i, i + 25).map(async (id) => {
          const view = await api(
            `${host.env['ROLLGATE_ORCHESTRATOR_URL']}/releases/${id}`,
            'GET',
            host.token,
          ).catch(() => null);
          const phase = String(view?.body['phase'] ?? 'unknown');
          phases.set(id, phase);
          if (view?.body['reason']) reasons.set(id, String(view.body['reason']));
          if (TERMINAL.includes(phase)) open.delete(id);
        }),
      );
    }
    if (open.size > 0) {
      progress(`${ids.length - open.size} of ${ids.length} releases settled`);
      await sleep(2_000);
    }
  }
  return phases;
}

async function pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

// ---------- the log ----------

async function eventsOf(host: Host, releaseIds: Set<string>): Promise<EventEnvelope[]> {
  const log = openEventLog(parseConfig(host.env), `bench-scale-${randomUUID().slice(0, 6)}`);
  const events: EventEnvelope[] = [];
  try {
    for (const topic of ['rollgate.releases', 'rollgate.analysis']) {
      for await (const logged of log.readRange({ topic })) {
        const data = logged.event.data as { releaseId?: string };
        if (data.releaseId && releaseIds.has(data.releaseId)) events.push(logged.event);
      }
    }
  } finally {
    await log.close();
  }
  return events;
}

interface Timings {
  toFirstStep: number[];
  toVerdict: number[];
  reconcileLag: number[];
  firstRequest: number;
  lastVerdict: number;
}

function timings(events: EventEnvelope[]): Timings {
  const time = (e: EventEnvelope) => Date.parse(e.occurredAt);
  const byRelease = new Map<string, EventEnvelope[]>();
  for (const event of events) {
    const id = (event.data as { releaseId: string }).releaseId;
    byRelease.set(id, [...(byRelease.get(id) ?? []), event]);
  }
  const result: Timings = {
    toFirstStep: [],
    toVerdict: [],
    reconcileLag: [],
    firstRequest: Infinity,
    lastVerdict: 0,
  };
  for (const mine of byRelease.values()) {
    mine.sort((a, b) => time(a) - time(b));
    const requested = mine.find((e) => e.type === 'ReleaseRequested');
    if (!requested) continue;
    result.firstRequest = Math.min(result.firstRequest, time(requested));
    const step = mine.find((e) => e.type === 'ReleaseStepStarted');
    if (step) result.toFirstStep.push(time(step) - time(requested));
    const end = mine.find((e) => e.type === 'ReleaseSucceeded' || e.type === 'ReleaseRolledBack');
    if (end) {
      result.toVerdict.push(time(end) - time(requested));
      result.lastVerdict = Math.max(result.lastVerdict, time(end));
    }
    for (const verdict of mine.filter((e) => e.type === 'AnalysisVerdictReached')) {
      const decision = mine.find(
        (e) =>
          (e.type === 'ReleaseStepCompleted' || e.type === 'ReleaseRollbackStarted') &&
          time(e) >= time(verdict),
      );
      if (decision) result.reconcileLag.push(time(decision) - time(verdict));
    }
  }
  return result;
}

// ---------- the run ----------

interface PhaseResult {
  name: string;
  releases: number;
  /** Releases the host did not accept (timed out ten times). */
  refused: number;
  startedPerMin: number;
  finishedPerMin: number;
  succeeded: number;
  rolledBack: number;
  stuck: number;
  bad: number;
  badCaught: number;
  /** Why good builds were rolled back (false alarms). */
  goodRolledBack: string[];
  timings: Timings;
  cpuPercent: number;
  rssMaxMb: number;
  /** The machine's 1-minute load average at the end (other work on it skews every number). */
  load: number;
}

async function phase(
  host: Host,
  name: string,
  work: Array<{ service: string; build: Build; at: number }>,
  plan: object,
  first: boolean,
): Promise<PhaseResult> {
  const sampler = new Sampler(host.proc.child.pid!);
  sampler.start();
  const began = Date.now();
  const ids = new Map<string, Build>();
  const refused: string[] = [];
  await pool(work, first ? DEPLOY_CONCURRENCY : work.length, async ({ service, build, at }) => {
    await sleep(Math.max(0, began + at - Date.now()));
    try {
      ids.set(await deploy(host, service, build, plan, first), build);
    } catch (error) {
      // A host too busy to accept a release is a result, not the end of the run.
      refused.push(`${service}: ${(error as Error).message.slice(0, 120)}`);
    }
    progress(`${name}: ${ids.size} of ${work.length} releases requested`);
  });
  const startedFor = (Date.now() - began) / 60_000;
  const reasons = new Map<string, string>();
  const phases = await settleAll(host, [...ids.keys()], Date.now() + SETTLE_TIMEOUT_MS, reasons);
  const usageSeen = sampler.stop();
  const t = timings(await eventsOf(host, new Set(ids.keys())));
  const count = (p: string) => [...phases.values()].filter((v) => v === p).length;
  const badIds = [...ids].filter(([, b]) => b.bad).map(([id]) => id);
  const finishedMin = (t.lastVerdict - t.firstRequest) / 60_000;
  return {
    name,
    releases: ids.size,
    refused: refused.length,
    startedPerMin: ids.size / Math.max(startedFor, 1 / 60),
    finishedPerMin: (count('succeeded') + count('rolled-back')) / Math.max(finishedMin, 1 / 60),
    succeeded: count('succeeded'),
    rolledBack: count('rolled-back'),
    stuck: ids.size - count('succeeded') - count('rolled-back') - count('aborted'),
    bad: badIds.length,
    badCaught: badIds.filter((id) => phases.get(id) === 'rolled-back').length,
    goodRolledBack: [...ids]
      .filter(([id, b]) => !b.bad && phases.get(id) === 'rolled-back')
      .map(([id]) => reasons.get(id) ?? 'no reason'),
    timings: t,
    ...usageSeen,
    load: loadavg()[0]!,
  };
}

function printTable(results: PhaseResult[], instances: number, rssIdle: number): void {
  const rows: string[][] = [
    ['', ...results.map((r) => r.name)],
    ['services × instances', ...results.map(() => `${SERVICES} × ${INSTANCES} = ${instances}`)],
    ['releases accepted / refused', ...results.map((r) => `${r.releases} / ${r.refused}`)],
    ['started / min', ...results.map((r) => r.startedPerMin.toFixed(0))],
    ['finished / min', ...results.map((r) => r.finishedPerMin.toFixed(0))],
    [
      'succeeded / rolled back / stuck',
      ...results.map((r) => `${r.succeeded} / ${r.rolledBack} / ${r.stuck}`),
    ],
    ['bad builds caught', ...results.map((r) => `${r.badCaught} of ${r.bad}`)],
    ['good builds rolled back', ...results.map((r) => String(r.goodRolledBack.length))],
    ...(
      [
        ['request → first step', 'toFirstStep'],
        ['request → verdict', 'toVerdict'],
        ['reconcile lag: verdict → decision', 'reconcileLag'],
      ] as const
    ).map(([label, key]) => [
      `${label}, p50 / p95 (s)`,
      ...results.map(
        (r) =>
          `${seconds(quantile(r.timings[key], 0.5))} / ${seconds(quantile(r.timings[key], 0.95))}`,
      ),
    ]),
    ['host CPU (% of one core, mean)', ...results.map((r) => r.cpuPercent.toFixed(0))],
    ['host RSS max (MB)', ...results.map((r) => r.rssMaxMb.toFixed(0))],
    ['machine load average (1 min, at end)', ...results.map((r) => r.load.toFixed(1))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ');
  console.log(`\nbench:scale — embedded host, ROLLGATE_FLEET=simulated`);
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GB RAM, node ${process.version}`,
  );
  console.log(
    `canary steps 25 % and 50 % of ${STEP_SECONDS} s; ${USERS_RPS} simulated user req/s per analysed service; ${(BAD_SHARE * 100).toFixed(0)} % bad builds; host RSS after deploy ${rssIdle.toFixed(0)} MB\n`,
  );
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const row of rows.slice(1)) console.log(line(row));
  const alarms = results.flatMap((r) => r.goodRolledBack);
  const counted = new Map<string, number>();
  for (const reason of alarms) {
    const key = reason.replace(/\d+(\.\d+)?/g, 'N').slice(0, 160);
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  for (const [reason, n] of counted) console.log(`good build rolled back ×${n}: ${reason}`);
}

async function main(): Promise<void> {
  const services = Array.from({ length: SERVICES }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
  const stable = services.map(() => ({ digest: newDigest(), version: 'v1', bad: false }));
  let arrival = 0;
  const canaries = Array.from({ length: RELEASES }, (_, i) => {
    // Poisson arrivals: exponential gaps at ARRIVALS_PER_MIN.
    arrival += (-Math.log(1 - Math.random()) * 60_000) / ARRIVALS_PER_MIN;
    const bad = i % Math.round(1 / BAD_SHARE) === Math.round(1 / BAD_SHARE) - 1;
    return {
      service: services[i % SERVICES]!,
      build: { digest: newDigest(), version: `v2-${i}`, bad },
      at: arrival,
    };
  });
  const profiles = join(tempDir('bench-scale-profiles'), 'profiles.json');
  writeFileSync(
    profiles,
    JSON.stringify(
      Object.fromEntries([
        ...stable.map((b) => [b.digest, { errorRate: 0.002, latencyMs: 10 }]),
        ...canaries.map(({ build }) => [
          build.digest,
          { errorRate: build.bad ? 0.3 : 0.002, latencyMs: 10 },
        ]),
      ]),
    ),
  );
  const host = await boot(profiles);
  try {
    const deployed = await phase(
      host,
      'first deploy',
      services.map((service, i) => ({ service, build: stable[i]!, at: 0 })),
      {},
      true,
    );
    const fleet = await api(
      `${host.env['ROLLGATE_ORCHESTRATOR_URL']}/fleet/instances`,
      'GET',
      host.token,
    );
    const instances = (fleet.body['instances'] as unknown[] | undefined)?.length ?? 0;
    const rssIdle = usage(host.proc.child.pid!).rssMb;
    const released = await phase(
      host,
      'canary releases',
      canaries,
      { canarySteps: [25, 50], stepSeconds: STEP_SECONDS },
      false,
    );
    printTable([deployed, released], instances, rssIdle);
  } finally {
    await stop(host.proc);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
