import { assertSamples, EXACT_MAX_SAMPLE, exactUCounts, rankSummary } from './mann-whitney';
import { normalCdf } from './normal';
import { assertCounts, type Counts } from './two-proportions';

/**
 * One-sided fixed-horizon tests: valid for ONE look at a complete sample (a window's end, a
 * one-shot judgement). Looked at again and again as data arrive, their false-alarm rate grows
 * with every look; the sequential tests in `./sequential` are the ones to peek at.
 */

/** Which way the canary must differ for the test to count it as evidence. */
export type OneSide = 'greater' | 'less';

/** ln Γ(x) for x > 0 (Lanczos, g = 7): ~15 digits, enough for hypergeometric tails. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
    -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < g + 2; i++) sum += c[i] / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const logChoose = (n: number, k: number): number =>
  logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);

export interface ProportionTestResult {
  /** P(canary count at least (or at most) as extreme as observed | equal rates), exact. */
  pValue: number;
  canaryRate: number;
  baselineRate: number;
}

/**
 * Fisher's exact test, one-sided, on counts. Given the total number of events, the canary's share
 * of them is hypergeometric when both groups have the same rate, whatever that rate is: so the
 * p-value is exact at every sample size and needs no estimate of the baseline rate. `greater`
 * asks whether the canary's rate is higher.
 */
export function fisherExactOneSided(
  baseline: Counts,
  canary: Counts,
  side: OneSide,
): ProportionTestResult {
  assertCounts('baseline', baseline);
  assertCounts('canary', canary);
  const total = baseline.trials + canary.trials;
  const events = baseline.events + canary.events;
  const draws = canary.trials;
  const low = Math.max(0, draws - (total - events));
  const high = Math.min(events, draws);
  const others = total - events;
  let term = Math.exp(
    logChoose(events, canary.events) +
      logChoose(others, draws - canary.events) -
      logChoose(total, draws),
  );
  // Walk the tail from the observed count outwards with the pmf's ratio of neighbours.
  let pValue = 0;
  if (side === 'greater') {
    for (let k = canary.events; k <= high; k++) {
      pValue += term;
      term *= ((events - k) * (draws - k)) / ((k + 1) * (others - draws + k + 1));
    }
  } else {
    for (let k = canary.events; k >= low; k--) {
      pValue += term;
      term *= (k * (others - draws + k)) / ((events - k + 1) * (draws - k + 1));
    }
  }
  return {
    pValue: Math.min(1, pValue),
    canaryRate: canary.events / canary.trials,
    baselineRate: baseline.events / baseline.trials,
  };
}

export interface OneSidedMannWhitneyResult {
  /** The canary's U (pairs with canary > baseline, ties ½). */
  u: number;
  /** One-sided p-value in the direction asked for. */
  pValue: number;
  /** `exact` (permutation distribution, no ties, both samples ≤ 10) or `normal`. */
  method: 'exact' | 'normal';
  /** Smallest p-value these sample sizes allow (without ties): 1 / C(m+n, m). */
  smallestPossibleP: number;
}

/**
 * Mann-Whitney U test, one-sided: `greater` asks whether canary values tend to be larger. Exact
 * when there are no ties and both samples have at most 10 values; otherwise the normal
 * approximation with tie-corrected variance and a continuity correction of ½.
 */
export function mannWhitneyOneSided(
  baseline: readonly number[],
  canary: readonly number[],
  side: OneSide,
): OneSidedMannWhitneyResult {
  assertSamples(baseline, canary);
  const m = canary.length;
  const n = baseline.length;
  const { u, tieTerm } = canaryU(baseline, canary);
  const smallestPossibleP = Math.exp(-logChoose(m + n, m));
  if (tieTerm === 0 && m <= EXACT_MAX_SAMPLE && n <= EXACT_MAX_SAMPLE) {
    const counts = exactUCounts(m, n);
    let total = 0;
    let tail = 0;
    counts.forEach((count, value) => {
      total += count;
      if (side === 'greater' ? value >= u : value <= u) tail += count;
    });
    return { u, pValue: tail / total, method: 'exact', smallestPossibleP };
  }
  const total = m + n;
  const variance = ((m * n) / 12) * (total + 1 - tieTerm / (total * (total - 1)));
  // Every value tied: no evidence either way.
  if (!(variance > 0)) return { u, pValue: 1, method: 'normal', smallestPossibleP };
  const sd = Math.sqrt(variance);
  const centred = side === 'greater' ? u - (m * n) / 2 : (m * n) / 2 - u;
  // Continuity correction toward the null: the one-sided tail of a discrete statistic.
  const pValue = normalCdf(-(centred - 0.5) / sd);
  return { u, pValue: Math.min(1, pValue), method: 'normal', smallestPossibleP };
}

/** U of the canary from mid-ranks, and Σ(t³ − t) over tied groups. */
function canaryU(
  baseline: readonly number[],
  canary: readonly number[],
): { u: number; tieTerm: number } {
  const { canaryRankSum, tieTerm } = rankSummary(baseline, canary);
  return { u: canaryRankSum - (canary.length * (canary.length + 1)) / 2, tieTerm };
}
