import { quantileSorted, sortedAscending } from '@rollgate/stats';
import type { KayentaMetricSettings } from './kayenta-settings';

/** NaN handling first, then outlier removal: Kayenta's order. Each side is transformed alone. */
export function transformSeries(
  values: readonly number[],
  settings: KayentaMetricSettings,
): number[] {
  const withoutNaN =
    settings.nanStrategy === 'remove'
      ? values.filter((v) => !Number.isNaN(v))
      : values.map((v) => (Number.isNaN(v) ? 0 : v));
  return settings.outlierStrategy === 'remove'
    ? removeOutliers(withoutNaN, settings.outlierFactor)
    : withoutNaN;
}

/**
 * Tukey fences Q1 − k·IQR and Q3 + k·IQR, widened to at least the 1st and 99th percentiles
 * (Kayenta's reduced sensitivity), so small or tight samples lose few points.
 */
export function removeOutliers(values: readonly number[], factor: number): number[] {
  if (values.length === 0) return [];
  const sorted = sortedAscending(values);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const spread = factor * (q3 - q1);
  const lower = Math.min(q1 - spread, quantileSorted(sorted, 0.01));
  const upper = Math.max(q3 + spread, quantileSorted(sorted, 0.99));
  return values.filter((v) => v >= lower && v <= upper);
}
