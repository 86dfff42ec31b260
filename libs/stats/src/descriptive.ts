/** Descriptive statistics on plain number arrays; inputs are never modified. */

/** A sorted copy; a typed array because its numeric sort is several times faster. */
export const sortedAscending = (values: ArrayLike<number>): Float64Array =>
  Float64Array.from(values).sort();

export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Unbiased sample variance (n - 1 in the denominator); NaN below two values. */
export function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return squares / (values.length - 1);
}

/** Quantile of already sorted values with linear interpolation (R's type 7, Excel's PERCENTILE). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

export const quantile = (values: ArrayLike<number>, q: number): number =>
  quantileSorted(sortedAscending(values), q);

export const median = (values: ArrayLike<number>): number => quantile(values, 0.5);
