import { assertSamples } from './mann-whitney';
import { normalQuantile } from './normal';
import { pairwiseDifferenceOrderStatistics } from './pairwise-differences';

export interface ShiftEstimate {
  /** Hodges-Lehmann shift: the median of all differences canary[i] − baseline[j]. */
  estimate: number;
  /** Confidence interval for the location shift (canary − baseline). */
  lower: number;
  upper: number;
  confLevel: number;
}

/**
 * Hodges-Lehmann location shift of canary against baseline, with the confidence interval that
 * R's wilcox.test(conf.int = TRUE) and Kayenta compute from the normal approximation: the shifts d
 * at which the continuity-corrected z of U(canary − d, baseline) equals ±z₁₋α/₂. That z only
 * changes at a pairwise difference, so the roots are order statistics of the differences and no
 * root finder is needed. Ties inside a sample survive any shift and stay in the variance; ties
 * across the samples happen only at isolated shifts and drop out. Defined for constant data too,
 * where Kayenta had to add noise.
 */
export function hodgesLehmann(
  baseline: readonly number[],
  canary: readonly number[],
  confLevel = 0.95,
): ShiftEstimate {
  assertSamples(baseline, canary);
  if (!(confLevel > 0 && confLevel < 1)) throw new RangeError('confLevel must be in (0, 1)');
  const pairs = baseline.length * canary.length;
  const { lowerRank, upperRank } = confidenceRanks(baseline, canary, confLevel);
  const middle = [Math.floor((pairs + 1) / 2), Math.ceil((pairs + 1) / 2)];
  const [lower, upper, below, above] = pairwiseDifferenceOrderStatistics(baseline, canary, [
    lowerRank,
    upperRank,
    ...middle,
  ]);
  return { estimate: (below + above) / 2, lower, upper, confLevel };
}

/** 1-based ranks of the interval's ends among the sorted m·n differences, clamped to 1..m·n. */
export function confidenceRanks(
  baseline: readonly number[],
  canary: readonly number[],
  confLevel: number,
): { lowerRank: number; upperRank: number } {
  const pairs = baseline.length * canary.length;
  const sigma = Math.sqrt(shiftVariance(baseline, canary));
  // U(d) counts differences above d; z(d) ≥ z_q needs U ≥ threshold. The ends are where U crosses it.
  const threshold = pairs / 2 + 0.5 + normalQuantile(1 - (1 - confLevel) / 2) * sigma;
  const clamp = (rank: number) => Math.min(pairs, Math.max(1, rank));
  return {
    lowerRank: clamp(Math.floor(pairs - threshold) + 1),
    upperRank: clamp(Math.ceil(threshold)),
  };
}

/** Variance of U at a generic shift: only the ties within each sample remain. */
function shiftVariance(baseline: readonly number[], canary: readonly number[]): number {
  const m = canary.length;
  const n = baseline.length;
  const total = m + n;
  const tieTerm = withinSampleTieTerm(baseline) + withinSampleTieTerm(canary);
  return ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
}

function withinSampleTieTerm(values: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let term = 0;
  for (const t of counts.values()) term += t * t * t - t;
  return term;
}
