import { quantileSorted, sortedAscending } from '../descriptive';
import {
  countRatioEvidence,
  createCountRatioTest,
  observeCounts,
  type CountRatioState,
} from './count-ratio';
import type { MixtureComponent, SequentialEvidence } from './mixture';

/**
 * Sequential test for a regression in one tail of a continuous metric (e.g. p99 latency) that a
 * shift of the mean would miss. Each interval, requests beyond a threshold are counted in both
 * groups and fed to the count-ratio test. The threshold is the baseline's quantile estimated from
 * baseline values of *earlier* intervals only: fixed before the interval's data arrive, it is the
 * same for both groups, so with no change both exceed it at the same rate and the error bounds of
 * the count test hold. The estimate is refreshed each time the reference sample doubles.
 */
export interface TailExceedanceOptions {
  /** Quantile of the baseline that defines the tail, e.g. 0.99 for the slowest 1 %. */
  quantile: number;
  /** `upper`: more canary values above the baseline's quantile is bad; `lower`: more below 1 − q. */
  tail: 'upper' | 'lower';
  alpha: number;
  beta: number;
  /** Smallest ratio of tail rates (canary / baseline) worth catching, > 1. */
  minimumRatio: number;
  mixture?: readonly MixtureComponent[];
  /** Baseline values kept to estimate the threshold (the first ones seen). */
  maxReference?: number;
}

export interface TailExceedanceState {
  quantile: number;
  tail: 'upper' | 'lower';
  /** Baseline values from earlier intervals, at most `maxReference`. */
  reference: number[];
  maxReference: number;
  /** Current threshold, null until enough baseline values were seen. */
  threshold: number | null;
  /** Reference size when the threshold was last computed. */
  thresholdFrom: number;
  counts: CountRatioState;
}

export const DEFAULT_MAX_REFERENCE = 5000;

/** Enough baseline values that the tail holds about two of them on average. */
export const minimumReference = (quantile: number): number =>
  Math.ceil(2 / Math.min(quantile, 1 - quantile) - 1e-9); // 1 − 0.9 is 0.0999…98 in binary

export function createTailExceedanceTest(options: TailExceedanceOptions): TailExceedanceState {
  if (!(options.quantile > 0 && options.quantile < 1)) {
    throw new RangeError('quantile must be in (0, 1)');
  }
  return {
    quantile: options.quantile,
    tail: options.tail,
    reference: [],
    maxReference: options.maxReference ?? DEFAULT_MAX_REFERENCE,
    threshold: null,
    thresholdFrom: 0,
    counts: createCountRatioTest({
      alpha: options.alpha,
      beta: options.beta,
      minimumRatio: options.minimumRatio,
      side: 'increase',
      mixture: options.mixture,
    }),
  };
}

/**
 * One look. The interval is taken in slices that end where the threshold is due for a refresh, so
 * even a single look with lots of data sets its threshold from its first baseline values and counts
 * the rest against it. Slices pair baseline and canary values by their share of the interval.
 */
export function observeTail(
  state: TailExceedanceState,
  interval: { canary: readonly number[]; baseline: readonly number[] },
): TailExceedanceState {
  const { baseline, canary } = interval;
  let next = state;
  let [b, c] = [0, 0];
  while (b < baseline.length || c < canary.length) {
    const take = Math.min(baseline.length - b, baselineUntilRefresh(next));
    const last = b + take >= baseline.length;
    const canaryTake = last
      ? canary.length - c
      : Math.round((take / (baseline.length - b)) * (canary.length - c));
    next = observeSlice(next, baseline.slice(b, b + take), canary.slice(c, c + canaryTake));
    b += take;
    c += canaryTake;
  }
  return next;
}

/** Baseline values still to come before the threshold is (re)computed; Infinity once settled. */
function baselineUntilRefresh(state: TailExceedanceState): number {
  const size = state.reference.length;
  if (state.threshold === null) return Math.max(1, minimumReference(state.quantile) - size);
  if (size >= state.maxReference) return Infinity;
  return Math.min(2 * state.thresholdFrom, state.maxReference) - size;
}

function observeSlice(
  state: TailExceedanceState,
  baseline: readonly number[],
  canary: readonly number[],
): TailExceedanceState {
  const counts =
    state.threshold === null
      ? state.counts
      : observeCounts(state.counts, {
          canary: exceedances(state, canary),
          baseline: exceedances(state, baseline),
        });
  const room = state.maxReference - state.reference.length;
  const reference = room > 0 ? [...state.reference, ...baseline.slice(0, room)] : state.reference;
  return refreshThreshold({ ...state, counts, reference });
}

export function tailEvidence(state: TailExceedanceState): SequentialEvidence & { ratio: number } {
  return countRatioEvidence(state.counts);
}

function exceedances(state: TailExceedanceState, values: readonly number[]) {
  const threshold = state.threshold as number;
  let events = 0;
  for (const v of values) if (state.tail === 'upper' ? v > threshold : v < threshold) events++;
  return { events, trials: values.length };
}

function refreshThreshold(state: TailExceedanceState): TailExceedanceState {
  const size = state.reference.length;
  const due =
    size >= minimumReference(state.quantile) &&
    size !== state.thresholdFrom &&
    (state.threshold === null || size >= Math.min(2 * state.thresholdFrom, state.maxReference));
  if (!due) return state;
  const q = state.tail === 'upper' ? state.quantile : 1 - state.quantile;
  return {
    ...state,
    threshold: quantileSorted(sortedAscending(state.reference), q),
    thresholdFrom: size,
  };
}
