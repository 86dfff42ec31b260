import { assertCounts, type Counts } from '../two-proportions';
import {
  alternatives,
  decide,
  mixtureEValue,
  type Alternatives,
  type SequentialEvidence,
  type SequentialOptions,
} from './mixture';

/**
 * Sequential test for event rates (errors per request, or requests slower than a threshold):
 * effect θ = log(canary rate / baseline rate). Conditioned on the number of events in an interval,
 * the canary's share of them is binomial with p = r·nc / (r·nc + nb) for rate ratio r and request
 * counts nc, nb. With r = 1 that distribution is known exactly, whatever the baseline rate, so the
 * likelihood ratio needs no estimated nuisance parameter and the error bounds hold from the first
 * event (for rare events exactly; for common ones conservatively, since the exact conditional law,
 * the hypergeometric, is less spread out than the binomial).
 */
export interface CountRatioState {
  options: SequentialOptions;
  alternatives: Alternatives;
  /** Log likelihood ratio of each tracked effect against "no change", summed over intervals. */
  logLr: number[];
  canary: Counts;
  baseline: Counts;
  /** Largest mixture likelihood ratio seen at any look (for the always-valid p-value). */
  maxEValue: number;
}

/** Options use `minimumEffect` as a log rate ratio; `minimumRatio` is the friendlier form. */
export function createCountRatioTest(
  options: Omit<SequentialOptions, 'minimumEffect'> & { minimumRatio: number },
): CountRatioState {
  if (!(options.minimumRatio > 1)) throw new RangeError('minimumRatio must be greater than 1');
  const { minimumRatio, ...rest } = options;
  const full: SequentialOptions = { ...rest, minimumEffect: Math.log(minimumRatio) };
  const alts = alternatives(full);
  return {
    options: full,
    alternatives: alts,
    logLr: alts.effects.map(() => 0),
    canary: { events: 0, trials: 0 },
    baseline: { events: 0, trials: 0 },
    maxEValue: 1,
  };
}

/** One look: add an interval's counts (new ones only) and return the new state. */
export function observeCounts(
  state: CountRatioState,
  interval: { canary: Counts; baseline: Counts },
): CountRatioState {
  const { canary, baseline } = interval;
  assertIntervalCounts('canary', canary);
  assertIntervalCounts('baseline', baseline);
  const logLr = [...state.logLr];
  const events = canary.events + baseline.events;
  if (events > 0 && canary.trials > 0 && baseline.trials > 0) {
    const nullShare = canary.trials / (canary.trials + baseline.trials);
    state.alternatives.effects.forEach((effect, k) => {
      const weighted = Math.exp(effect) * canary.trials;
      const share = weighted / (weighted + baseline.trials);
      logLr[k] +=
        timesLog(canary.events, share / nullShare) +
        timesLog(baseline.events, (1 - share) / (1 - nullShare));
    });
  }
  return {
    ...state,
    logLr,
    canary: add(state.canary, canary),
    baseline: add(state.baseline, baseline),
    maxEValue: Math.max(state.maxEValue, mixtureEValue(state.alternatives, logLr)),
  };
}

export function countRatioEvidence(state: CountRatioState): SequentialEvidence & { ratio: number } {
  const ratio = estimatedRatio(state.canary, state.baseline);
  const evidence = decide(
    state.options,
    state.alternatives,
    state.logLr,
    state.maxEValue,
    Math.log(ratio),
  );
  return { ...evidence, ratio };
}

/** Rate ratio with half an event added to each side, so that zero counts give a finite answer. */
export function estimatedRatio(canary: Counts, baseline: Counts): number {
  if (canary.trials === 0 || baseline.trials === 0) return NaN;
  return (canary.events + 0.5) / canary.trials / ((baseline.events + 0.5) / baseline.trials);
}

/** n·ln(x) with 0·ln(0) = 0: a huge alternative drives a share to exactly 1 in floating point. */
const timesLog = (n: number, x: number): number => (n === 0 ? 0 : n * Math.log(x));

const add = (a: Counts, b: Counts): Counts => ({
  events: a.events + b.events,
  trials: a.trials + b.trials,
});

function assertIntervalCounts(label: string, counts: Counts): void {
  if (counts.trials === 0 && counts.events === 0) return; // an interval without traffic is allowed
  assertCounts(label, counts);
}
