/**
 * npm run bench:aca — simulated canaries judged by all three judges on the same traffic.
 *
 * Each run simulates a baseline and a canary receiving the same request rate (Poisson arrivals)
 * for up to HORIZON_S seconds. Requests fail with a probability and take a log-normal latency
 * (median 100 ms, σ 0.5 in log space, so p99 ≈ 320 ms). Every judge sees the same requests, each
 * through the interface it would have in production:
 *   - sequential: per-request error flags (0/1) and latencies, cumulative, every INTERVAL_S;
 *     it stops at its first PASS or FAIL (MARGINAL/NODATA mean "look again").
 *   - kayenta: Spinnaker's schedule. Metric series with one point per STEP_S (error rate, p50,
 *     p99 of each step), judged every KAYENTA_EVERY_S on the growing window; a score ≤ marginal
 *     fails at once, otherwise the last judgement decides (≥ pass passes, anything else fails).
 *   - threshold: Flagger's schedule. Every THRESHOLD_EVERY_S, conditions on the canary's last
 *     THRESHOLD_EVERY_S of requests; the first violation fails, passing every check promotes.
 * Time to verdict is the seconds of data behind the verdict; a run without one counts HORIZON_S.
 * Runs are split over two worker threads; results are deterministic (seeded per run).
 */
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  DEFAULT_KAYENTA_SETTINGS,
  KayentaJudge,
  SequentialJudge,
  ThresholdJudge,
  type Judge,
  type JudgeRequest,
  type MetricInput,
  type SequentialRunState,
  type Verdict,
} from '@rollgate/judges';
import {
  bernoulliKl,
  createRandom,
  normalCdf,
  normalQuantile,
  quantileSorted,
  waldExpectedSampleSize,
  type Random,
} from '@rollgate/stats';

const HORIZON_S = 600;
const INTERVAL_S = 1;
const STEP_S = 10;
const KAYENTA_EVERY_S = 60;
const THRESHOLD_EVERY_S = 60;
const RATES = [1, 10, 100];
const HEALTHY_RUNS = Number(process.env['BENCH_HEALTHY_RUNS'] ?? 600);
const REGRESSION_RUNS = Number(process.env['BENCH_REGRESSION_RUNS'] ?? 150);
const WORKERS = Number(process.env['BENCH_WORKERS'] ?? Math.max(1, Math.min(2, cpus().length)));

const BASE_ERROR_RATE = 0.01;
const MEDIAN_MS = 100;
const LOG_SIGMA = 0.5;

interface Scenario {
  name: string;
  errorRate: number;
  /** Multiplies every canary latency (shifts p50 and everything else). */
  latencyFactor: number;
  /** Stretches only the slowest 5 %, so that canary p99 doubles and p50 stays. */
  tailOnly: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'healthy', errorRate: BASE_ERROR_RATE, latencyFactor: 1, tailOnly: false },
  { name: 'errors 1% → 2%', errorRate: 0.02, latencyFactor: 1, tailOnly: false },
  { name: 'errors 1% → 5%', errorRate: 0.05, latencyFactor: 1, tailOnly: false },
  { name: 'latency p50 +10%', errorRate: BASE_ERROR_RATE, latencyFactor: 1.1, tailOnly: false },
  { name: 'latency p50 +50%', errorRate: BASE_ERROR_RATE, latencyFactor: 1.5, tailOnly: false },
  { name: 'latency p99 +100% only', errorRate: BASE_ERROR_RATE, latencyFactor: 1, tailOnly: true },
];

const THRESHOLD_CONDITIONS = {
  'error-rate': { aggregate: 'mean' as const, max: 0.03 },
  'latency-p50': { aggregate: 'p50' as const, max: 125 },
  'latency-p99': { aggregate: 'p99' as const, max: 600 },
};

const JUDGE_NAMES = ['sequential', 'kayenta', 'threshold'] as const;
type BenchJudge = (typeof JUDGE_NAMES)[number];

interface Outcome {
  verdict: Verdict | 'NONE';
  seconds: number;
}

interface Task {
  scenario: number;
  rate: number;
  seed: number;
}

type RunResult = Task & Record<BenchJudge, Outcome>;

// ---------- traffic ----------

/** Multiplier of the tail-only regression at quantile u: 1 up to p95, 2 at p99, 2.25 at the top. */
const tailMultiplier = (u: number): number => 1 + Math.max(0, (u - 0.95) / 0.04);
const TAIL_START_Z = normalQuantile(0.95);

function latency(random: Random, scenario: Scenario | null): number {
  const z = random.normal();
  const value = MEDIAN_MS * Math.exp(LOG_SIGMA * z);
  if (!scenario) return value;
  const tail = scenario.tailOnly && z > TAIL_START_Z ? tailMultiplier(normalCdf(z)) : 1;
  return value * scenario.latencyFactor * tail;
}

interface Group {
  errors: number[];
  latencies: number[];
  /** Per-step series for kayenta: error rate, p50, p99 (NaN for a step without requests). */
  steps: { errorRate: number[]; p50: number[]; p99: number[] };
}

const newGroup = (): Group => ({
  errors: [],
  latencies: [],
  steps: { errorRate: [], p50: [], p99: [] },
});

/** Adds `seconds` of traffic; `scenario` null is the baseline. */
function simulate(
  group: Group,
  random: Random,
  rate: number,
  seconds: number,
  scenario: Scenario | null,
) {
  const requests = random.poisson(rate * seconds);
  const errorRate = scenario ? scenario.errorRate : BASE_ERROR_RATE;
  for (let i = 0; i < requests; i++) {
    group.errors.push(random.uniform() < errorRate ? 1 : 0);
    group.latencies.push(latency(random, scenario));
  }
}

/** Closes a step: the requests since index `from` become one point of each series. */
function closeStep(group: Group, from: number) {
  const count = group.errors.length - from;
  let errors = 0;
  for (let i = from; i < group.errors.length; i++) errors += group.errors[i];
  const sorted = Float64Array.from(group.latencies.slice(from)).sort();
  group.steps.errorRate.push(count > 0 ? errors / count : NaN);
  group.steps.p50.push(count > 0 ? quantileSorted(sorted, 0.5) : NaN);
  group.steps.p99.push(count > 0 ? quantileSorted(sorted, 0.99) : NaN);
}

// ---------- judges on a schedule ----------

const metric = (name: string, baseline: number[], canary: number[]): MetricInput => ({
  name,
  baseline,
  canary,
  direction: 'increase',
});

class SequentialRunner {
  private readonly judge = new SequentialJudge();
  private state: SequentialRunState = this.judge.start();
  outcome: Outcome | null = null;

  look(seconds: number, baseline: Group, canary: Group) {
    if (this.outcome) return;
    const request: JudgeRequest = {
      metrics: [
        metric('error-rate', baseline.errors, canary.errors),
        metric('latency', baseline.latencies, canary.latencies),
      ],
    };
    const { state, verdict } = this.judge.observe(this.state, request);
    this.state = state;
    if (verdict.verdict === 'PASS' || verdict.verdict === 'FAIL') {
      this.outcome = { verdict: verdict.verdict, seconds };
    } else if (seconds >= HORIZON_S) this.outcome = { verdict: 'NONE', seconds };
  }
}

class KayentaRunner {
  private readonly judge: Judge = new KayentaJudge();
  outcome: Outcome | null = null;

  look(seconds: number, baseline: Group, canary: Group) {
    if (this.outcome || seconds % KAYENTA_EVERY_S !== 0) return;
    const { score, verdict } = this.judge.judge({
      metrics: [
        metric('error-rate', baseline.steps.errorRate, canary.steps.errorRate),
        metric('latency-p50', baseline.steps.p50, canary.steps.p50),
        metric('latency-p99', baseline.steps.p99, canary.steps.p99),
      ],
    });
    const { marginal, pass } = DEFAULT_KAYENTA_SETTINGS.scoreThresholds;
    if (verdict === 'NODATA') {
      if (seconds >= HORIZON_S) this.outcome = { verdict: 'NONE', seconds };
    } else if (score <= marginal) this.outcome = { verdict: 'FAIL', seconds };
    else if (seconds >= HORIZON_S) {
      this.outcome = { verdict: score >= pass ? 'PASS' : 'FAIL', seconds };
    }
  }
}

class ThresholdRunner {
  private readonly judge: Judge = new ThresholdJudge({ conditions: THRESHOLD_CONDITIONS });
  private windowStart = 0;
  outcome: Outcome | null = null;

  look(seconds: number, _baseline: Group, canary: Group) {
    if (this.outcome || seconds % THRESHOLD_EVERY_S !== 0) return;
    const errors = canary.errors.slice(this.windowStart);
    const latencies = canary.latencies.slice(this.windowStart);
    this.windowStart = canary.errors.length;
    // Canary alone: the baseline arrays stay empty.
    const { verdict } = this.judge.judge({
      metrics: [
        metric('error-rate', [], errors),
        metric('latency-p50', [], latencies),
        metric('latency-p99', [], latencies),
      ],
    });
    if (verdict === 'FAIL') this.outcome = { verdict: 'FAIL', seconds };
    else if (seconds >= HORIZON_S) {
      this.outcome = { verdict: verdict === 'PASS' ? 'PASS' : 'NONE', seconds };
    }
  }
}

function runOne(task: Task): RunResult {
  const scenario = SCENARIOS[task.scenario];
  const random = createRandom(task.seed);
  const baseline = newGroup();
  const canary = newGroup();
  const runners = {
    sequential: new SequentialRunner(),
    kayenta: new KayentaRunner(),
    threshold: new ThresholdRunner(),
  };
  let stepFrom = { baseline: 0, canary: 0 };
  for (let seconds = INTERVAL_S; seconds <= HORIZON_S; seconds += INTERVAL_S) {
    simulate(baseline, random, task.rate, INTERVAL_S, null);
    simulate(canary, random, task.rate, INTERVAL_S, scenario);
    if (seconds % STEP_S === 0) {
      closeStep(baseline, stepFrom.baseline);
      closeStep(canary, stepFrom.canary);
      stepFrom = { baseline: baseline.errors.length, canary: canary.errors.length };
    }
    for (const runner of Object.values(runners)) runner.look(seconds, baseline, canary);
    if (Object.values(runners).every((r) => r.outcome)) break;
  }
  const outcome = (r: { outcome: Outcome | null }) =>
    r.outcome ?? { verdict: 'NONE' as const, seconds: HORIZON_S };
  return {
    ...task,
    sequential: outcome(runners.sequential),
    kayenta: outcome(runners.kayenta),
    threshold: outcome(runners.threshold),
  };
}

// ---------- Wald floor ----------

const SEQUENTIAL_ALPHA = new SequentialJudge().settings.alpha;
const SEQUENTIAL_BETA = new SequentialJudge().settings.beta;

/** P(canary latency > baseline p99) under the tail-only regression, by bisection on u. */
function tailShareBeyondP99(): number {
  const p99 = normalQuantile(0.99);
  let [low, high] = [0.95, 0.99];
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    const canaryZ = normalQuantile(mid) + Math.log(tailMultiplier(mid)) / LOG_SIGMA;
    if (canaryZ > p99) high = mid;
    else low = mid;
  }
  return 1 - low;
}

/** Event-share SPRT (½ vs ρ₁) for rates; paired log-latency SPRT for shifts. Seconds of data. */
function waldSeconds(scenario: Scenario, rate: number): number {
  const expected = (klPerSecond: number) =>
    waldExpectedSampleSize(SEQUENTIAL_ALPHA, SEQUENTIAL_BETA, {
      underAlternative: klPerSecond,
      underNull: klPerSecond,
    }).underAlternative;
  const shares = (canaryRate: number, baselineRate: number) => {
    const rho = canaryRate / (canaryRate + baselineRate);
    return expected(bernoulliKl(rho, 0.5) * rate * (canaryRate + baselineRate));
  };
  if (scenario.errorRate !== BASE_ERROR_RATE) return shares(scenario.errorRate, BASE_ERROR_RATE);
  if (scenario.tailOnly) return shares(tailShareBeyondP99(), 0.01);
  const theta = Math.log(scenario.latencyFactor);
  return expected((rate * theta * theta) / (4 * LOG_SIGMA * LOG_SIGMA));
}

// ---------- report ----------

const median = (values: number[]) => quantileSorted(Float64Array.from(values).sort(), 0.5);
const percent = (count: number, total: number) => `${((100 * count) / total).toFixed(1)}%`;
const pad = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');

function judgeTable(judge: BenchJudge, results: RunResult[]): string {
  const header = [
    'scenario',
    'req/s',
    'runs',
    'FAIL',
    'PASS',
    'none',
    'median s',
    'p95 s',
    'FAIL ≤90s',
    'Wald s',
  ];
  const rows = SCENARIOS.flatMap((scenario, index) =>
    RATES.map((rate) => {
      const runs = results
        .filter((r) => r.scenario === index && r.rate === rate)
        .map((r) => r[judge]);
      const seconds = runs.map((o) => o.seconds);
      const count = (v: Outcome['verdict']) => runs.filter((o) => o.verdict === v).length;
      const fastFails = runs.filter((o) => o.verdict === 'FAIL' && o.seconds <= 90).length;
      const floor = index === 0 ? '—' : waldSeconds(scenario, rate).toFixed(1);
      return [
        scenario.name,
        String(rate),
        String(runs.length),
        percent(count('FAIL'), runs.length),
        percent(count('PASS'), runs.length),
        percent(count('NONE'), runs.length),
        median(seconds).toFixed(0),
        quantileSorted(Float64Array.from(seconds).sort(), 0.95).toFixed(0),
        percent(fastFails, runs.length),
        floor,
      ];
    }),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(header, widths), ...rows.map((r) => pad(r, widths))].join('\n');
}

function goals(results: RunResult[]): string[] {
  const healthy = results.filter((r) => r.scenario === 0);
  const fpr = (judge: BenchJudge) =>
    healthy.filter((r) => r[judge].verdict === 'FAIL').length / healthy.length;
  const target = results.filter((r) => r.scenario === 2 && r.rate === 10).map((r) => r.sequential);
  const targetMedian = median(target.map((o) => o.seconds));
  const within90 =
    target.filter((o) => o.verdict === 'FAIL' && o.seconds <= 90).length / target.length;
  const overall = (judge: BenchJudge) => median(results.map((r) => r[judge].seconds));
  const speedup = overall('kayenta') / overall('sequential');
  const mark = (ok: boolean) => (ok ? 'met   ' : 'MISSED');
  return [
    `${mark(fpr('sequential') < 0.01)} sequential rolls back ${percent(fpr('sequential') * healthy.length, healthy.length)} of ${healthy.length} healthy canaries (goal < 1%)`,
    `${mark(targetMedian < 40)} errors 1% → 5% at 10 req/s: median ${targetMedian.toFixed(0)} s of data (goal < 40 s)`,
    `${mark(within90 >= 0.95)} errors 1% → 5% at 10 req/s: ${(100 * within90).toFixed(1)}% detected within 90 s (goal ≥ 95%)`,
    `${mark(speedup >= 2 && fpr('sequential') <= fpr('kayenta'))} median time to verdict, all runs: sequential ${overall('sequential').toFixed(0)} s vs kayenta ${overall('kayenta').toFixed(0)} s (×${speedup.toFixed(2)}, goal ≥ ×2) at FPR ${percent(fpr('sequential') * healthy.length, healthy.length)} vs ${percent(fpr('kayenta') * healthy.length, healthy.length)} (goal ≤)`,
  ];
}

function tasks(): Task[] {
  return SCENARIOS.flatMap((_, scenario) =>
    RATES.flatMap((rate) =>
      Array.from({ length: scenario === 0 ? HEALTHY_RUNS : REGRESSION_RUNS }, (_, run) => ({
        scenario,
        rate,
        seed: 1_000_003 * (scenario + 1) + 10_007 * rate + run,
      })),
    ),
  );
}

function runInWorkers(all: Task[]): Promise<RunResult[]> {
  if (WORKERS === 0) return Promise.resolve(all.map(runOne)); // in-process, for profiling
  const shares = Array.from({ length: WORKERS }, (_, w) => all.filter((_, i) => i % WORKERS === w));
  return Promise.all(
    shares.map(
      (share) =>
        new Promise<RunResult[]>((resolve, reject) => {
          const worker = new Worker(
            `require('@swc-node/register'); require(${JSON.stringify(__filename)});`,
            { eval: true, workerData: share },
          );
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  ).then((parts) => parts.flat());
}

async function main() {
  const started = Date.now();
  const all = tasks();
  console.log(
    `bench:aca — ${HEALTHY_RUNS} healthy and ${REGRESSION_RUNS} regressed runs per scenario and rate ` +
      `(${all.length} runs, ${WORKERS} worker threads); horizon ${HORIZON_S} s; sequential looks every ` +
      `${INTERVAL_S} s; kayenta: ${STEP_S} s steps, judged every ${KAYENTA_EVERY_S} s; threshold: ` +
      `checks every ${THRESHOLD_EVERY_S} s (error rate ≤ 3%, p50 ≤ 125 ms, p99 ≤ 600 ms).`,
  );
  console.log(
    `Baseline: ${BASE_ERROR_RATE * 100}% errors, log-normal latency (median ${MEDIAN_MS} ms, σ ${LOG_SIGMA}). ` +
      `FAIL on healthy = false positive; FAIL on a regression = detection. "none": no verdict by the horizon.`,
  );
  console.log(
    `Wald s: expected seconds of data for Wald's SPRT tuned to the true effect at α = ${SEQUENTIAL_ALPHA}, ` +
      `β = ${SEQUENTIAL_BETA} (the sequential judge's bounds): a floor no judge can beat on average.\n`,
  );
  const results = await runInWorkers(all);
  for (const judge of JUDGE_NAMES)
    console.log(
      `${judge}${judge === 'sequential' ? ' (default)' : ''}\n${judgeTable(judge, results)}\n`,
    );
  console.log(['Goals (issue 4, default judge):', ...goals(results)].join('\n  '));
  console.log(`\nfinished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

if (isMainThread) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  parentPort?.postMessage((workerData as Task[]).map(runOne));
}
