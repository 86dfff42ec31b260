import { normalCdf } from './normal';

/** Both samples at most this long and free of ties: the p-value comes from the exact distribution. */
export const EXACT_MAX_SAMPLE = 10;

export interface MannWhitneyResult {
  /** The canary's U: pairs (canary, baseline) with canary > baseline, ties counting 0.5. Range 0..m·n. */
  u: number;
  /** Two-sided p-value for "the two samples come from the same distribution". */
  pValue: number;
  /** `exact`: permutation distribution of U; `normal`: tie- and continuity-corrected approximation. */
  method: 'exact' | 'normal';
  /** Standardised U after corrections (normal method only; 0 for exact). */
  z: number;
}

export interface RankSummary {
  /** Sum of the canary's mid-ranks in the pooled sample. */
  canaryRankSum: number;
  /** Σ (t³ − t) over groups of t tied values: the variance's tie correction. */
  tieTerm: number;
  hasTies: boolean;
}

/**
 * Mid-rank sum of the canary in the pooled sample and the tie term. Each sample is sorted on its
 * own (typed-array sorts, no objects) and the two are merged one run of equal values at a time,
 * so a window of a hundred thousand requests costs two numeric sorts.
 */
export function rankSummary(baseline: readonly number[], canary: readonly number[]): RankSummary {
  const b = Float64Array.from(baseline).sort();
  const c = Float64Array.from(canary).sort();
  let canaryRankSum = 0;
  let tieTerm = 0;
  let i = 0;
  let j = 0;
  let below = 0; // values already ranked
  while (i < b.length || j < c.length) {
    const value = j >= c.length || (i < b.length && b[i] < c[j]) ? b[i] : c[j];
    let inBaseline = 0;
    let inCanary = 0;
    for (; i < b.length && b[i] === value; i++) inBaseline++;
    for (; j < c.length && c[j] === value; j++) inCanary++;
    const size = inBaseline + inCanary;
    const midRank = below + (size + 1) / 2; // ranks are 1-based: below+1 .. below+size
    canaryRankSum += inCanary * midRank;
    tieTerm += size * size * size - size;
    below += size;
  }
  return { canaryRankSum, tieTerm, hasTies: tieTerm > 0 };
}

const distributionCache = new Map<string, Float64Array>();

/**
 * Number of the C(m+n, m) equally likely rankings giving each U = 0..m·n, for samples without ties.
 * Recursion on the largest value: it belongs to the sample of size m (adding n to U) or of size n.
 */
export function exactUCounts(m: number, n: number): Float64Array {
  const key = `${m}:${n}`;
  const cached = distributionCache.get(key);
  if (cached) return cached;
  let counts: Float64Array;
  if (m === 0 || n === 0) counts = Float64Array.of(1);
  else {
    const withLargest = exactUCounts(m - 1, n); // the largest value is one of the m: U gains n
    const withoutLargest = exactUCounts(m, n - 1);
    counts = new Float64Array(m * n + 1);
    withLargest.forEach((count, u) => (counts[u + n] += count));
    withoutLargest.forEach((count, u) => (counts[u] += count));
  }
  distributionCache.set(key, counts);
  return counts;
}

function exactTwoSidedP(u: number, m: number, n: number): number {
  const counts = exactUCounts(m, n);
  let total = 0;
  let atMost = 0;
  let atLeast = 0;
  counts.forEach((count, value) => {
    total += count;
    if (value <= u) atMost += count;
    if (value >= u) atLeast += count;
  });
  return Math.min(1, (2 * Math.min(atMost, atLeast)) / total);
}

/**
 * Mann-Whitney U test of canary against baseline (Wilcoxon rank-sum). Two-sided p-value: exact
 * permutation distribution when there are no ties and both samples have at most 10 values;
 * otherwise the normal approximation with tie-corrected variance and a 0.5 continuity correction.
 * When every value is tied there is no evidence of a difference and the p-value is 1.
 */
export function mannWhitneyU(
  baseline: readonly number[],
  canary: readonly number[],
): MannWhitneyResult {
  assertSamples(baseline, canary);
  const m = canary.length;
  const n = baseline.length;
  const ranks = rankSummary(baseline, canary);
  const u = ranks.canaryRankSum - (m * (m + 1)) / 2;
  if (!ranks.hasTies && m <= EXACT_MAX_SAMPLE && n <= EXACT_MAX_SAMPLE) {
    return { u, pValue: exactTwoSidedP(u, m, n), method: 'exact', z: 0 };
  }
  const z = correctedZ(u, m, n, ranks.tieTerm);
  const pValue = Number.isNaN(z) ? 1 : Math.min(1, 2 * normalCdf(-Math.abs(z)));
  return { u, pValue, method: 'normal', z: Number.isNaN(z) ? 0 : z };
}

/** (U − mn/2 − ½·sign) / σ with σ² = mn/12 · (N + 1 − Σ(t³−t)/(N(N−1))); NaN when σ = 0. */
export function correctedZ(u: number, m: number, n: number, tieTerm: number): number {
  const total = m + n;
  const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  if (!(variance > 0)) return NaN;
  const centred = u - (m * n) / 2;
  return (centred - 0.5 * Math.sign(centred)) / Math.sqrt(variance);
}

/** Throws a RangeError naming the problem: empty samples or values that are not finite numbers. */
export function assertSamples(baseline: readonly number[], canary: readonly number[]): void {
  for (const [label, sample] of [
    ['baseline', baseline],
    ['canary', canary],
  ] as const) {
    if (sample.length === 0) throw new RangeError(`${label} sample is empty`);
    if (!sample.every(Number.isFinite)) {
      throw new RangeError(`${label} sample contains a value that is not a finite number`);
    }
  }
}
