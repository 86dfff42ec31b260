/** Statistic of the canary's values that a condition bounds. */
export type Aggregate = 'mean' | 'min' | 'max' | 'p50' | 'p90' | 'p95' | 'p99' | 'p999';

export const AGGREGATES: readonly Aggregate[] = [
  'mean',
  'min',
  'max',
  'p50',
  'p90',
  'p95',
  'p99',
  'p999',
];

export interface ThresholdCondition {
  /** Default `mean` (for 0/1 error flags: the error rate). */
  aggregate: Aggregate;
  /** The aggregate must be ≤ max (when set). */
  max?: number;
  /** The aggregate must be ≥ min (when set). */
  min?: number;
  /** Fewer canary values than this is NoData. Default 1. */
  minSamples: number;
}

export interface ThresholdSettings {
  /** Conditions by metric name. A metric without one is NoData: nothing to check it against. */
  conditions: Record<string, Partial<ThresholdCondition>>;
}

export const DEFAULT_THRESHOLD_SETTINGS: ThresholdSettings = { conditions: {} };

export function conditionFor(
  settings: ThresholdSettings,
  metric: string,
): ThresholdCondition | null {
  const own = settings.conditions[metric];
  if (!own || (own.max === undefined && own.min === undefined)) return null;
  return {
    aggregate: own.aggregate ?? 'mean',
    minSamples: own.minSamples ?? 1,
    max: own.max,
    min: own.min,
  };
}
