import {
  countRatioEvidence,
  createCountRatioTest,
  createMeanShiftTest,
  createTailExceedanceTest,
  mean,
  meanShiftEvidence,
  observeCounts,
  observeTail,
  observeValues,
  tailEvidence,
  type CountRatioState,
  type MeanShiftState,
  type SequentialEvidence,
  type TailExceedanceState,
} from '@rollgate/stats';
import { JudgeInputError } from '../errors';
import type { Direction } from '../types';
import {
  DEFAULT_MINIMUM_RATIO,
  DEFAULT_MINIMUM_RELATIVE_CHANGE,
  type SequentialMetricSettings,
  type SequentialSettings,
} from './sequential-settings';

/** The tests watching one metric: plain data, so a run's state can be stored and replayed. */
export type MetricTests =
  | { kind: 'proportion'; counts: OutcomeCounts[] }
  | {
      kind: 'continuous';
      scale: 'log' | 'linear';
      location: MeanShiftState;
      tails: TailExceedanceState[];
    };

/**
 * A proportion regresses when the share of its bad outcome grows: the 1s when an increase is bad
 * (errors), the 0s when a decrease is bad (successes), both when either is. Testing the growth of
 * the rare outcome keeps the minimum ratio meaningful: 99% → 90% success is ×10 failures.
 */
export interface OutcomeCounts {
  outcome: 0 | 1;
  state: CountRatioState;
}

export interface NewValues {
  baseline: number[];
  canary: number[];
}

export interface TestEvidence extends SequentialEvidence {
  /** What the test watches, for reasons: `rate`, `shift`, or a tail such as `p99 tail`. */
  label: string;
  /** For tails the bad side is fixed; otherwise the estimate's sign says High or Low. */
  badSide: 'High' | 'Low' | null;
  ratio?: number;
  /** Count tests: the share of requests with the counted outcome in each group so far. */
  shares?: { canary: number; baseline: number };
}

const sharesOf = (state: CountRatioState) => ({
  canary: state.canary.events / state.canary.trials,
  baseline: state.baseline.events / state.baseline.trials,
});

const isZeroOrOne = (v: number) => v === 0 || v === 1;

/**
 * The kind of a metric: its setting, or with `auto` whether the values seen so far (either group)
 * are all 0 or 1. null while `auto` has no values to go by.
 */
export function resolveKind(
  kind: SequentialMetricSettings['kind'],
  values: readonly number[],
): 'proportion' | 'continuous' | null {
  if (kind !== 'auto') return kind;
  if (values.length === 0) return null;
  return values.every(isZeroOrOne) ? 'proportion' : 'continuous';
}

/** Build the tests for a metric once both groups have data (kind and scale depend on it). */
export function createMetricTests(
  name: string,
  values: NewValues,
  direction: Direction,
  alpha: number,
  settings: SequentialSettings,
  metric: SequentialMetricSettings,
): MetricTests {
  const all = [...values.baseline, ...values.canary];
  const kind =
    metric.kind !== 'auto' ? metric.kind : all.every(isZeroOrOne) ? 'proportion' : 'continuous';
  const common = { beta: settings.beta, mixture: settings.mixture };
  if (kind === 'proportion') {
    const minimumRatio = metric.minimumRegression ?? DEFAULT_MINIMUM_RATIO;
    const outcomes: (0 | 1)[] =
      direction === 'either' ? [1, 0] : direction === 'increase' ? [1] : [0];
    const counts = outcomes.map((outcome) => ({
      outcome,
      state: createCountRatioTest({
        ...common,
        alpha: alpha / outcomes.length,
        minimumRatio,
        side: 'increase',
      }),
    }));
    return { kind, counts };
  }
  const scale = metric.scale !== 'auto' ? metric.scale : all.every((v) => v > 0) ? 'log' : 'linear';
  const tailSides: ('upper' | 'lower')[] =
    direction === 'either' ? ['upper', 'lower'] : direction === 'increase' ? ['upper'] : ['lower'];
  const tests = 1 + metric.tailQuantiles.length * tailSides.length;
  const location = createMeanShiftTest({
    ...common,
    mixture: settings.shiftMixture,
    alpha: alpha / tests,
    side: direction,
    minimumEffect: minimumShift(name, scale, metric, values.baseline),
    minimumSamples: metric.minimumSamples,
  });
  const tails = metric.tailQuantiles.flatMap((quantile) =>
    tailSides.map((tail) =>
      createTailExceedanceTest({
        ...common,
        alpha: alpha / tests,
        quantile,
        tail,
        minimumRatio: metric.tailMinimumRatio,
      }),
    ),
  );
  return { kind, scale, location, tails };
}

export function minimumShift(
  name: string,
  scale: 'log' | 'linear',
  metric: SequentialMetricSettings,
  baseline: number[],
): number {
  if (scale === 'log')
    return Math.log(1 + (metric.minimumRegression ?? DEFAULT_MINIMUM_RELATIVE_CHANGE));
  const shift =
    metric.minimumRegression ?? DEFAULT_MINIMUM_RELATIVE_CHANGE * Math.abs(mean(baseline));
  if (!(shift > 0)) {
    throw new JudgeInputError(`metric "${name}": set minimumRegression (baseline mean is 0)`);
  }
  return shift;
}

/** Feed one look's new values to every test of the metric. */
export function observeMetric(name: string, tests: MetricTests, values: NewValues): MetricTests {
  if (tests.kind === 'proportion') {
    if (![...values.baseline, ...values.canary].every(isZeroOrOne)) {
      throw new JudgeInputError(`metric "${name}": a proportion metric takes only 0 and 1 values`);
    }
    const counted = (side: number[], outcome: 0 | 1) => ({
      events: side.filter((v) => v === outcome).length,
      trials: side.length,
    });
    return {
      ...tests,
      counts: tests.counts.map(({ outcome, state }) => ({
        outcome,
        state: observeCounts(state, {
          baseline: counted(values.baseline, outcome),
          canary: counted(values.canary, outcome),
        }),
      })),
    };
  }
  const onScale = (side: number[]) =>
    tests.scale === 'log' ? side.map((v) => logOf(name, v)) : side;
  return {
    ...tests,
    location: observeValues(tests.location, {
      baseline: onScale(values.baseline),
      canary: onScale(values.canary),
    }),
    tails: tests.tails.map((tail) => observeTail(tail, values)),
  };
}

function logOf(name: string, value: number): number {
  if (value <= 0) {
    throw new JudgeInputError(`metric "${name}": value ${value} on a log scale; set scale: linear`);
  }
  return Math.log(value);
}

/** Evidence of every test of the metric, for the verdict and its reasons. */
export function metricEvidence(tests: MetricTests): TestEvidence[] {
  if (tests.kind === 'proportion') {
    return tests.counts.map(({ outcome, state }) => ({
      ...countRatioEvidence(state),
      shares: sharesOf(state),
      label: `share of ${outcome}s`,
      badSide: outcome === 1 ? ('High' as const) : ('Low' as const),
    }));
  }
  return [
    { ...meanShiftEvidence(tests.location), label: 'shift', badSide: null },
    ...tests.tails.map((tail) => ({
      ...tailEvidence(tail),
      shares: sharesOf(tail.counts),
      label: `p${formatQuantile(tail)} tail`,
      badSide: tail.tail === 'upper' ? ('High' as const) : ('Low' as const),
    })),
  ];
}

function formatQuantile(tail: TailExceedanceState): string {
  const q = tail.tail === 'upper' ? tail.quantile : 1 - tail.quantile;
  return String(Number((q * 100).toPrecision(4)));
}
