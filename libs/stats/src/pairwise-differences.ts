import { sortedAscending } from './descriptive';
import { createRandom } from './random';

/**
 * The k-th smallest (1-based) of the m·n differences canary[i] − baseline[j], without building them:
 * randomised selection over the implicitly sorted difference matrix, O((m + n) log(mn)) expected.
 * Rows are canary values (ascending); within a row, differences ascend as baseline values descend.
 */
export function kthPairwiseDifference(
  baseline: readonly number[],
  canary: readonly number[],
  k: number,
): number {
  const total = baseline.length * canary.length;
  if (!Number.isInteger(k) || k < 1 || k > total) {
    throw new RangeError(`k must be an integer in 1..${total}, got ${k}`);
  }
  return new DifferenceMatrix(sortedAscending(baseline), sortedAscending(canary)).select(k);
}

/** Several order statistics of the pairwise differences, sharing the sorting. */
export function pairwiseDifferenceOrderStatistics(
  baseline: readonly number[],
  canary: readonly number[],
  ks: readonly number[],
): number[] {
  const matrix = new DifferenceMatrix(sortedAscending(baseline), sortedAscending(canary));
  return ks.map((k) => matrix.select(k));
}

class DifferenceMatrix {
  private readonly descendingBaseline: Float64Array;

  constructor(
    baselineAscending: Float64Array,
    private readonly canary: Float64Array,
  ) {
    this.descendingBaseline = baselineAscending.reverse();
  }

  /** Row i, column j: canary[i] − baseline_desc[j]; ascending in j and (column-wise) in i. */
  private at(row: number, column: number): number {
    return this.canary[row] - this.descendingBaseline[column];
  }

  /** Per row, how many entries are < pivot (strict) or ≤ pivot; monotone rows allow two pointers. */
  private countBelow(pivot: number, strict: boolean): Int32Array {
    const width = this.descendingBaseline.length;
    const counts = new Int32Array(this.canary.length);
    let column = width; // entries are non-decreasing down a column, so the count only shrinks
    for (let row = 0; row < this.canary.length; row++) {
      while (column > 0 && !this.isBelow(this.at(row, column - 1), pivot, strict)) column--;
      counts[row] = column;
    }
    return counts;
  }

  private isBelow(value: number, pivot: number, strict: boolean): boolean {
    return strict ? value < pivot : value <= pivot;
  }

  select(k: number): number {
    const rows = this.canary.length;
    const low = new Int32Array(rows); // entries before low[row] are known to rank below the answer
    const high = new Int32Array(rows).fill(this.descendingBaseline.length); // at/after: above it
    const random = createRandom(k).uniform;
    for (;;) {
      const pivot = this.randomCandidate(low, high, random());
      const less = this.countBelow(pivot, true);
      const lessOrEqual = this.countBelow(pivot, false);
      if (sum(less) >= k) for (let r = 0; r < rows; r++) high[r] = Math.min(high[r], less[r]);
      else if (sum(lessOrEqual) >= k) return pivot;
      else for (let r = 0; r < rows; r++) low[r] = Math.max(low[r], lessOrEqual[r]);
    }
  }

  private randomCandidate(low: Int32Array, high: Int32Array, uniform: number): number {
    let remaining = 0;
    for (let r = 0; r < low.length; r++) remaining += high[r] - low[r];
    let target = Math.floor(uniform * remaining);
    for (let r = 0; r < low.length; r++) {
      const width = high[r] - low[r];
      if (target < width) return this.at(r, low[r] + target);
      target -= width;
    }
    throw new Error('no candidate left: selection invariant broken');
  }
}

const sum = (counts: Int32Array): number => counts.reduce((acc, c) => acc + c, 0);
