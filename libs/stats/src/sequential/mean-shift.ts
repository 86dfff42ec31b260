import {
  alternatives,
  decide,
  mixtureEValue,
  type Alternatives,
  type SequentialEvidence,
  type SequentialOptions,
} from './mixture';

/** Running count, mean and sum of squared deviations (Welford), mergeable across intervals. */
export interface RunningMoments {
  count: number;
  mean: number;
  squares: number;
}

export const EMPTY_MOMENTS: RunningMoments = { count: 0, mean: 0, squares: 0 };

export function addValues(moments: RunningMoments, values: readonly number[]): RunningMoments {
  let { count, mean, squares } = moments;
  for (const value of values) {
    count += 1;
    const delta = value - mean;
    mean += delta / count;
    squares += delta * (value - mean);
  }
  return { count, mean, squares };
}

/**
 * Sequential test for a shift in the mean of a continuous metric (for latency, of log latency, so
 * the effect is a relative change): effect θ = mean(canary) − mean(baseline). The difference of
 * means is treated as normal with the plug-in variance s²c/nc + s²b/nb, which makes the mixture
 * likelihood ratio a martingale in the large-sample limit (as in Johari et al.'s always-valid
 * inference); `minimumSamples` keeps it from deciding on a variance estimated from a handful of
 * values.
 */
export interface MeanShiftState {
  options: SequentialOptions & { minimumSamples: number };
  alternatives: Alternatives;
  canary: RunningMoments;
  baseline: RunningMoments;
  maxEValue: number;
}

export const DEFAULT_MINIMUM_SAMPLES = 30;

export function createMeanShiftTest(
  options: SequentialOptions & { minimumSamples?: number },
): MeanShiftState {
  const minimumSamples = options.minimumSamples ?? DEFAULT_MINIMUM_SAMPLES;
  if (!(Number.isInteger(minimumSamples) && minimumSamples >= 2)) {
    throw new RangeError('minimumSamples must be an integer ≥ 2');
  }
  return {
    options: { ...options, minimumSamples },
    alternatives: alternatives(options),
    canary: EMPTY_MOMENTS,
    baseline: EMPTY_MOMENTS,
    maxEValue: 1,
  };
}

/** One look: add an interval's new values and return the new state. */
export function observeValues(
  state: MeanShiftState,
  interval: { canary: readonly number[]; baseline: readonly number[] },
): MeanShiftState {
  for (const value of [...interval.canary, ...interval.baseline]) {
    if (!Number.isFinite(value)) throw new RangeError('values must be finite numbers');
  }
  const next = {
    ...state,
    canary: addValues(state.canary, interval.canary),
    baseline: addValues(state.baseline, interval.baseline),
  };
  return { ...next, maxEValue: Math.max(state.maxEValue, currentEValue(next)) };
}

export function meanShiftEvidence(state: MeanShiftState): SequentialEvidence {
  const hasData = state.canary.count > 0 && state.baseline.count > 0;
  const estimate = hasData ? state.canary.mean - state.baseline.mean : NaN;
  const logLr = logLikelihoodRatios(state);
  if (!logLr) {
    return { decision: 'continue', eValue: 1, alwaysValidP: 1 / state.maxEValue, estimate };
  }
  return decide(state.options, state.alternatives, logLr, state.maxEValue, estimate);
}

const ready = (state: MeanShiftState): boolean =>
  state.canary.count >= state.options.minimumSamples &&
  state.baseline.count >= state.options.minimumSamples;

/** log LR(θ) = (θ·d − θ²/2) / V for the observed difference d with variance V; null before ready. */
function logLikelihoodRatios(state: MeanShiftState): number[] | null {
  if (!ready(state)) return null;
  const { canary, baseline } = state;
  const variance =
    canary.squares / (canary.count - 1) / canary.count +
    baseline.squares / (baseline.count - 1) / baseline.count;
  // Constant data: any difference is certain, so let the ratios run to ±infinity.
  const safeVariance = variance > 0 ? variance : Number.MIN_VALUE;
  const difference = canary.mean - baseline.mean;
  return state.alternatives.effects.map(
    (effect) => (effect * difference - (effect * effect) / 2) / safeVariance,
  );
}

function currentEValue(state: MeanShiftState): number {
  const logLr = logLikelihoodRatios(state);
  return logLr ? mixtureEValue(state.alternatives, logLr) : 1;
}
