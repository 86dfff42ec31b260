import type { Classification, MetricInput, MetricResult } from './types';

/** Weight of a metric in the score; default 1. */
export const weightOf = (metric: Pick<MetricInput, 'weight'>): number => metric.weight ?? 1;

/** 0–100: weighted share of metrics classified Pass, rounded to two decimals. */
export function passShareScore(
  metrics: readonly Pick<MetricInput, 'weight'>[],
  results: readonly Pick<MetricResult, 'classification'>[],
): number {
  const total = metrics.reduce((sum, metric) => sum + weightOf(metric), 0);
  if (total <= 0) return 0;
  const passing = metrics.reduce(
    (sum, metric, i) => sum + (results[i].classification === 'Pass' ? weightOf(metric) : 0),
    0,
  );
  return Math.round((10000 * passing) / total) / 100;
}

export const isFailure = (classification: Classification): boolean =>
  classification === 'High' || classification === 'Low' || classification === 'NoDataFail';

export const namesWith = (
  results: readonly MetricResult[],
  predicate: (classification: Classification) => boolean,
): string[] => results.filter((r) => predicate(r.classification)).map((r) => r.name);
