/**
 * npm run bench:aca — simulated canaries judged by all three judges on the same traffic.
 *
 * Each run simulates a baseline and a canary receiving the same request rate (Poisson arrivals)
 * for up to HORIZON_S seconds. Requests fail with a probability and take a log-normal latency
 * (median 100 ms, σ 0.5 in log space, so p99 ≈ 320 ms). Every judge sees the same requests, each
 * through the interface it would have in production:
 *   - sequential: per-request error flags (0/1) and latencies, cumulative, every INTERVAL_S;
 *     it stops at its first PASS or FAIL (MARGINAL/NODATA mean "look again").
 *   - kayenta: Spinnaker's canary stage. Metric series with one point per STEP_S (error rate,
 *     p50, p99 of each step), judged every KAYENTA_EVERY_S on the growing window for a configured
 *     lifetime (each of KAYENTA_LIFETIMES_S): a score ≤ marginal fails at once; at the end of the
 *     lifetime the last score decides (≥ pass passes, anything else fails). Its false-positive
 *     rate is measured on that schedule.
 *   - fixed-horizon: one look at the end of the same lifetime with classical tests on the
 *     per-request data (two-proportion test on error counts, Mann-Whitney on latency).
 *   - threshold: Flagger's schedule. Every THRESHOLD_EVERY_S, conditions on the canary's last
 *     THRESHOLD_EVERY_S of requests; the first violation fails, passing every check promotes.
 * Time to verdict is the seconds of data behind the verdict; a run without one counts HORIZON_S.
 * For error regressions, Wald's SPRT tuned to the true rate ratio runs on the same traffic too:
 * the floor, simulated (its overshoot included), next to Wald's approximation.
 * The whole bench repeats BENCH_REPEATS times with fresh seeds; goals report the median of the
 * repeats, tables pool them. Runs are split over two worker threads; results are deterministic.
 */
import { cpus } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  DEFAULT_KAYENTA_SETTINGS,
  KayentaJudge,
  SequentialJudge,
  ThresholdJudge,
  type Judge,
  type JudgeVerdict,
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
  waldBoundaries,
  waldExpectedSampleSize,
  type Random,
} from '@rollgate/stats';

const HORIZON_S = 600;
const INTERVAL_S = 1;
const STEP_S = 10;
const KAYENTA_EVERY_S = 60;
/** Canary stage lifetimes compared: 5 and 10 judgements a minute apart. */
const KAYENTA_LIFETIMES_S = [300, 600];
const THRESHOLD_EVERY_S = 60;
const RATES = [1, 10, 100];
const HEALTHY_RUNS = Number(process.env['BENCH_HEALTHY_RUNS'] ?? 400);
const REGRESSION_RUNS = Number(process.env['BENCH_REGRESSION_RUNS'] ?? 100);
const REPEATS = Number(process.env['BENCH_REPEATS'] ?? 5);
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

/** Every schedule a run is judged on: one column of outcomes each. */
const SCHEDULES = [
  'sequential',
  ...KAYENTA_LIFETIMES_S.map((l) => `kayenta ${l}s`),
  ...KAYENTA_LIFETIMES_S.map((l) => `fixed-horizon ${l}s`),
  'threshold',
];
const kayentaSchedule = (lifetime: number) => `kayenta ${lifetime}s`;
const fixedSchedule = (lifetime: number) => `fixed-horizon ${lifetime}s`;

interface Outcome {
  verdict: Verdict | 'NONE';
  seconds: number;
}

interface Task {
  repeat: number;
  scenario: number;
  rate: number;
  seed: number;
}

interface RunResult extends Task {
  outcomes: Record<string, Outcome>;
  /** Wald's SPRT on the error flags, tuned to the true ratio (error regressions only). */
  sprt: Outcome | null;
  /** The same at the error metric's share of α in the sequential judge (ERROR_ALPHA). */
  sprtShare: Outcome | null;
}

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

/** Kayenta's score at every judgement, so that each lifetime's stage can be replayed from them. */
class KayentaRunner {
  private readonly judge: Judge = new KayentaJudge();
  /** null: NODATA at that judgement. */
  readonly scores: (number | null)[] = [];
  private readonly last = Math.max(...KAYENTA_LIFETIMES_S);

  look(seconds: number, baseline: Group, canary: Group) {
    if (seconds % KAYENTA_EVERY_S !== 0 || seconds > this.last) return;
    const { score, verdict } = this.judge.judge({
      metrics: [
        metric('error-rate', baseline.steps.errorRate, canary.steps.errorRate),
        metric('latency-p50', baseline.steps.p50, canary.steps.p50),
        metric('latency-p99', baseline.steps.p99, canary.steps.p99),
      ],
    });
    this.scores.push(verdict === 'NODATA' ? null : score);
  }

  get done(): boolean {
    const { marginal } = DEFAULT_KAYENTA_SETTINGS.scoreThresholds;
    return (
      this.scores.length * KAYENTA_EVERY_S >= this.last ||
      this.scores.some((s) => s !== null && s <= marginal)
    );
  }

  /** The canary stage with this lifetime: fail fast at ≤ marginal, else the last score decides. */
  outcome(lifetime: number): Outcome {
    const { marginal, pass } = DEFAULT_KAYENTA_SETTINGS.scoreThresholds;
    const judgements = lifetime / KAYENTA_EVERY_S;
    for (let k = 0; k < judgements; k++) {
      const score = this.scores[k];
      const seconds = (k + 1) * KAYENTA_EVERY_S;
      if (score === undefined) break;
      if (score !== null && score <= marginal) return { verdict: 'FAIL', seconds };
      if (k === judgements - 1) {
        if (score === null) return { verdict: 'NONE', seconds };
        return { verdict: score >= pass ? 'PASS' : 'FAIL', seconds };
      }
    }
    return { verdict: 'NONE', seconds: lifetime };
  }
}

/** One look at the complete window at the end of each lifetime: the classical tests. */
class FixedHorizonRunner {
  private readonly judge = new SequentialJudge();
  readonly outcomes = new Map<number, Outcome>();

  look(seconds: number, baseline: Group, canary: Group) {
    if (!KAYENTA_LIFETIMES_S.includes(seconds)) return;
    const verdict: JudgeVerdict = this.judge.judgeWindow({
      metrics: [
        metric('error-rate', baseline.errors, canary.errors),
        metric('latency', baseline.latencies, canary.latencies),
      ],
    });
    const decided = verdict.verdict === 'PASS' || verdict.verdict === 'FAIL';
    this.outcomes.set(seconds, { verdict: decided ? verdict.verdict : 'NONE', seconds });
  }

  get done(): boolean {
    return this.outcomes.size === KAYENTA_LIFETIMES_S.length;
  }
}

/**
 * Wald's SPRT between "equal error rates" and the true ratio, on the error flags of each
 * interval (the canary's share of the interval's errors, as the sequential judge's rate test).
 */
class SprtRunner {
  private logLr = 0;
  private readonly bounds: { upper: number; lower: number };
  outcome: Outcome | null = null;
  private seen = { baseline: 0, canary: 0 };

  constructor(
    private readonly ratio: number,
    alpha: number,
  ) {
    this.bounds = waldBoundaries(alpha, SEQUENTIAL_BETA);
  }

  look(seconds: number, baseline: Group, canary: Group) {
    if (this.outcome) return;
    const count = (errors: number[], from: number) => {
      let events = 0;
      for (let i = from; i < errors.length; i++) events += errors[i];
      return { events, trials: errors.length - from };
    };
    const b = count(baseline.errors, this.seen.baseline);
    const c = count(canary.errors, this.seen.canary);
    this.seen = { baseline: baseline.errors.length, canary: canary.errors.length };
    if (b.events + c.events > 0 && b.trials > 0 && c.trials > 0) {
      const nullShare = c.trials / (c.trials + b.trials);
      const share = (this.ratio * c.trials) / (this.ratio * c.trials + b.trials);
      this.logLr +=
        c.events * Math.log(share / nullShare) + b.events * Math.log((1 - share) / (1 - nullShare));
    }
    if (this.logLr >= this.bounds.upper) this.outcome = { verdict: 'FAIL', seconds };
    else if (this.logLr <= this.bounds.lower) this.outcome = { verdict: 'PASS', seconds };
    else if (seconds >= HORIZON_S) this.outcome = { verdict: 'NONE', seconds };
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
  const sequential = new SequentialRunner();
  const kayenta = new KayentaRunner();
  const fixed = new FixedHorizonRunner();
  const threshold = new ThresholdRunner();
  const errorsRegressed = scenario.errorRate !== BASE_ERROR_RATE;
  const ratio = scenario.errorRate / BASE_ERROR_RATE;
  const sprt = errorsRegressed ? new SprtRunner(ratio, SEQUENTIAL_ALPHA) : null;
  // The same SPRT at the error metric's share of α (the judge splits α with latency).
  const sprtShare = errorsRegressed ? new SprtRunner(ratio, ERROR_ALPHA) : null;
  const sprts = [sprt, sprtShare].filter((r): r is SprtRunner => r !== null);
  const runners = [sequential, kayenta, fixed, threshold, ...sprts];
  const done = () =>
    sequential.outcome &&
    kayenta.done &&
    fixed.done &&
    threshold.outcome &&
    sprts.every((r) => r.outcome);
  let stepFrom = { baseline: 0, canary: 0 };
  for (let seconds = INTERVAL_S; seconds <= HORIZON_S; seconds += INTERVAL_S) {
    simulate(baseline, random, task.rate, INTERVAL_S, null);
    simulate(canary, random, task.rate, INTERVAL_S, scenario);
    if (seconds % STEP_S === 0) {
      closeStep(baseline, stepFrom.baseline);
      closeStep(canary, stepFrom.canary);
      stepFrom = { baseline: baseline.errors.length, canary: canary.errors.length };
    }
    for (const runner of runners) runner.look(seconds, baseline, canary);
    if (done()) break;
  }
  const none = (seconds: number): Outcome => ({ verdict: 'NONE', seconds });
  const outcomes: Record<string, Outcome> = {
    sequential: sequential.outcome ?? none(HORIZON_S),
    threshold: threshold.outcome ?? none(HORIZON_S),
  };
  for (const lifetime of KAYENTA_LIFETIMES_S) {
    outcomes[kayentaSchedule(lifetime)] = kayenta.outcome(lifetime);
    // Kayenta may fail fast before the fixed-horizon look; the look still happens at the lifetime.
    outcomes[fixedSchedule(lifetime)] = fixed.outcomes.get(lifetime) ?? none(lifetime);
  }
  const ended = (r: SprtRunner | null) => (r ? (r.outcome ?? none(HORIZON_S)) : null);
  return { ...task, outcomes, sprt: ended(sprt), sprtShare: ended(sprtShare) };
}

// ---------- Wald floor ----------

const SEQUENTIAL_ALPHA = new SequentialJudge().settings.alpha;
const SEQUENTIAL_BETA = new SequentialJudge().settings.beta;
/** The error metric's share of α next to one latency metric (a proportion counts factor × 1). */
const ERROR_FACTOR = new SequentialJudge().settings.proportionAlphaFactor;
const ERROR_ALPHA = (SEQUENTIAL_ALPHA * ERROR_FACTOR) / (ERROR_FACTOR + 1);

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

function judgeTable(schedule: string, results: RunResult[]): string {
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
        .map((r) => r.outcomes[schedule]);
      const floor = index === 0 ? '—' : waldSeconds(scenario, rate).toFixed(1);
      return [scenario.name, String(rate), ...outcomeCells(runs), floor];
    }),
  );
  return table(header, rows);
}

function outcomeCells(runs: Outcome[]): string[] {
  const seconds = runs.map((o) => o.seconds);
  const count = (v: Outcome['verdict']) => runs.filter((o) => o.verdict === v).length;
  const fastFails = runs.filter((o) => o.verdict === 'FAIL' && o.seconds <= 90).length;
  return [
    String(runs.length),
    percent(count('FAIL'), runs.length),
    percent(count('PASS'), runs.length),
    percent(count('NONE'), runs.length),
    median(seconds).toFixed(0),
    quantileSorted(Float64Array.from(seconds).sort(), 0.95).toFixed(0),
    percent(fastFails, runs.length),
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [pad(header, widths), ...rows.map((r) => pad(r, widths))].join('\n');
}

/** Wald's SPRT simulated on the same traffic: the floor with its overshoot, not the formula. */
function sprtTable(results: RunResult[]): string {
  const header = ['scenario', 'req/s', 'runs', 'FAIL', 'PASS', 'none', 'median s', 'p95 s'];
  header.push('FAIL ≤90s', 'Wald s');
  const rows = SCENARIOS.flatMap((scenario, index) =>
    scenario.errorRate === BASE_ERROR_RATE
      ? []
      : RATES.map((rate) => {
          const runs = results
            .filter((r) => r.scenario === index && r.rate === rate && r.sprt)
            .map((r) => r.sprt!);
          return [
            scenario.name,
            String(rate),
            ...outcomeCells(runs),
            waldSeconds(scenario, rate).toFixed(1),
          ];
        }),
  );
  return table(header, rows);
}

// ---------- goals ----------

const TARGET = { scenario: 2, rate: 10 };
const TARGET_WALD_S = waldSeconds(SCENARIOS[TARGET.scenario], TARGET.rate);

/** The numbers the goals are about, for one repeat. */
interface RepeatFigures {
  fpr: Record<string, number>;
  /** Share of regression runs FAILed, all scenarios and rates. */
  detection: Record<string, number>;
  /** Median time to verdict over every run (healthy and regressed). */
  overall: Record<string, number>;
  targetMedian: number;
  targetWithin90: number;
  sprtMedian: number;
  sprtWithin90: number;
  sprtShareMedian: number;
  sprtShareWithin90: number;
}

function figures(results: RunResult[]): RepeatFigures {
  const healthy = results.filter((r) => r.scenario === 0);
  const regressed = results.filter((r) => r.scenario !== 0);
  const share = (runs: RunResult[], schedule: string) =>
    runs.filter((r) => r.outcomes[schedule].verdict === 'FAIL').length / runs.length;
  const bySchedule = (f: (schedule: string) => number) =>
    Object.fromEntries(SCHEDULES.map((schedule) => [schedule, f(schedule)]));
  const target = results.filter((r) => r.scenario === TARGET.scenario && r.rate === TARGET.rate);
  const within90 = (outcomes: Outcome[]) =>
    outcomes.filter((o) => o.verdict === 'FAIL' && o.seconds <= 90).length / outcomes.length;
  const seq = target.map((r) => r.outcomes['sequential']);
  const sprt = target.map((r) => r.sprt!);
  const sprtShare = target.map((r) => r.sprtShare!);
  return {
    fpr: bySchedule((schedule) => share(healthy, schedule)),
    detection: bySchedule((schedule) => share(regressed, schedule)),
    overall: bySchedule((schedule) => median(results.map((r) => r.outcomes[schedule].seconds))),
    targetMedian: median(seq.map((o) => o.seconds)),
    targetWithin90: within90(seq),
    sprtMedian: median(sprt.map((o) => o.seconds)),
    sprtWithin90: within90(sprt),
    sprtShareMedian: median(sprtShare.map((o) => o.seconds)),
    sprtShareWithin90: within90(sprtShare),
  };
}

const pct = (share: number) => `${(100 * share).toFixed(2)}%`;
const list = (values: number[], format: (v: number) => string) =>
  `[${values.map(format).join(', ')}]`;

function comparisonTable(repeats: RepeatFigures[]): string {
  const header = ['schedule', 'median s (all runs)', 'FPR (healthy)', 'detection (regressed)'];
  const rows = SCHEDULES.filter((s) => s !== 'threshold').map((schedule) => [
    schedule,
    median(repeats.map((f) => f.overall[schedule])).toFixed(0),
    pct(median(repeats.map((f) => f.fpr[schedule]))),
    pct(median(repeats.map((f) => f.detection[schedule]))),
  ]);
  return table(header, rows);
}

function goals(repeats: RepeatFigures[]): string[] {
  const mark = (ok: boolean) => (ok ? 'met   ' : 'MISSED');
  const med = (f: (r: RepeatFigures) => number) => median(repeats.map(f));
  const fpr = med((r) => r.fpr['sequential']);
  const targetMedian = med((r) => r.targetMedian);
  const ratio = targetMedian / TARGET_WALD_S;
  const within90 = med((r) => r.targetWithin90);
  const lines = [
    `${mark(fpr < 0.01)} sequential rolls back ${pct(fpr)} of healthy canaries (goal < 1%) ${list(
      repeats.map((r) => r.fpr['sequential']),
      pct,
    )}`,
    `${mark(ratio <= 1.15)} errors 1% → 5% at 10 req/s: median ${targetMedian.toFixed(0)} s of data vs Wald ${TARGET_WALD_S.toFixed(1)} s (×${ratio.toFixed(2)}, goal ≤ ×1.15) ${list(
      repeats.map((r) => r.targetMedian),
      (v) => v.toFixed(0),
    )}`,
    `${mark(within90 >= 0.99)} errors 1% → 5% at 10 req/s: ${pct(within90)} detected within 90 s (goal ≥ 99%) ${list(
      repeats.map((r) => r.targetWithin90),
      pct,
    )}`,
  ];
  for (const lifetime of KAYENTA_LIFETIMES_S) {
    const kayenta = kayentaSchedule(lifetime);
    const ours = med((r) => r.overall['sequential']);
    const theirs = med((r) => r.overall[kayenta]);
    const theirFpr = med((r) => r.fpr[kayenta]);
    const speedup = theirs / ours;
    lines.push(
      `${mark(speedup >= 2 && fpr <= theirFpr)} vs ${kayenta}: median time to verdict, all runs ${ours.toFixed(0)} s vs ${theirs.toFixed(0)} s (×${speedup.toFixed(2)}, goal ≥ ×2) at FPR ${pct(fpr)} vs ${pct(theirFpr)} (goal ≤)`,
    );
  }
  lines.push(
    `reference: Wald's SPRT tuned to ratio 5 on the same traffic (the floor, simulated) at α = ${SEQUENTIAL_ALPHA}: median ${med((r) => r.sprtMedian).toFixed(0)} s, ${pct(med((r) => r.sprtWithin90))} within 90 s; at the error metric's share of α, ${Number(ERROR_ALPHA.toPrecision(3))}: median ${med((r) => r.sprtShareMedian).toFixed(0)} s, ${pct(med((r) => r.sprtShareWithin90))} within 90 s`,
  );
  return lines;
}

function tasks(): Task[] {
  return Array.from({ length: REPEATS }, (_, repeat) =>
    SCENARIOS.flatMap((_, scenario) =>
      RATES.flatMap((rate) =>
        Array.from({ length: scenario === 0 ? HEALTHY_RUNS : REGRESSION_RUNS }, (_, run) => ({
          repeat,
          scenario,
          rate,
          seed: 1_000_003 * (scenario + 1) + 10_007 * rate + run + 7_919_111 * repeat,
        })),
      ),
    ),
  ).flat();
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
    `bench:aca — ${REPEATS} repeats × (${HEALTHY_RUNS} healthy and ${REGRESSION_RUNS} regressed runs per scenario and rate) ` +
      `(${all.length} runs, ${WORKERS} worker threads); horizon ${HORIZON_S} s; sequential looks every ` +
      `${INTERVAL_S} s; kayenta: ${STEP_S} s steps, judged every ${KAYENTA_EVERY_S} s, stage lifetimes ` +
      `${KAYENTA_LIFETIMES_S.join(' and ')} s; fixed-horizon: one look at the end of each lifetime; ` +
      `threshold: checks every ${THRESHOLD_EVERY_S} s (error rate ≤ 3%, p50 ≤ 125 ms, p99 ≤ 600 ms).`,
  );
  console.log(
    `Baseline: ${BASE_ERROR_RATE * 100}% errors, log-normal latency (median ${MEDIAN_MS} ms, σ ${LOG_SIGMA}). ` +
      `FAIL on healthy = false positive; FAIL on a regression = detection. "none": no verdict by the horizon.`,
  );
  console.log(
    `Wald s: expected seconds of data for Wald's SPRT tuned to the true effect at α = ${SEQUENTIAL_ALPHA}, ` +
      `β = ${SEQUENTIAL_BETA} (the sequential judge's bounds), overshoot ignored. Tables pool all repeats.\n`,
  );
  const results = await runInWorkers(all);
  for (const schedule of SCHEDULES)
    console.log(
      `${schedule}${schedule === 'sequential' ? ' (default)' : ''}\n${judgeTable(schedule, results)}\n`,
    );
  console.log(
    `Wald's SPRT on the error flags, tuned to the true ratio (simulated floor)\n${sprtTable(results)}\n`,
  );
  const repeats = Array.from({ length: REPEATS }, (_, repeat) =>
    figures(results.filter((r) => r.repeat === repeat)),
  );
  console.log(
    `Kayenta on its schedule vs fixed-horizon vs ours (median of ${REPEATS} repeats)\n${comparisonTable(repeats)}\n`,
  );
  console.log(
    [
      `Goals (issue 16, default judge; median of ${REPEATS} repeats, each repeat's value in brackets):`,
      ...goals(repeats),
    ].join('\n  '),
  );
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
