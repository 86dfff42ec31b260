import { DEFAULT_MIXTURE, type MixtureComponent } from '@rollgate/stats';

export interface SequentialMetricSettings {
  /**
   * `proportion`: every value is 0 or 1 (e.g. one per request: 1 = error), tested as a rate.
   * `continuous`: any numbers (e.g. latency), tested for a shift and in the tails.
   * `auto` (default): proportion when the first values seen are all 0 or 1.
   */
  kind: 'auto' | 'proportion' | 'continuous';
  /** Continuous only. `log` tests relative change; `auto` (default) is log when values are > 0. */
  scale: 'auto' | 'log' | 'linear';
  /**
   * The smallest regression worth catching. Proportion: rate ratio, default 2 (the rate doubles).
   * Continuous on a log scale: relative change, default 0.1 (+10 %). Linear scale: a shift in
   * the metric's unit, default 10 % of the baseline mean at the first look.
   */
  minimumRegression?: number;
  /** Continuous only: baseline quantiles whose tail is watched, default [0.99] (p99). */
  tailQuantiles: number[];
  /** Smallest ratio of tail shares (canary / baseline) worth catching, default 2. */
  tailMinimumRatio: number;
  /** Continuous only: values per group before the shift test may decide, default 30. */
  minimumSamples: number;
}

export interface SequentialSettings {
  /**
   * Bound on the chance that a healthy canary ever FAILs, however often it is looked at: shared
   * out across metrics by weight, and within a metric across its tests. Default 0.01.
   */
  alpha: number;
  /** Bound, per test, on the chance of a PASS when the minimum regression is real. Default 0.05. */
  beta: number;
  /** Alternatives mixed by the tests, as multiples of the minimum regression. Default 1,2,3,4. */
  mixture: readonly MixtureComponent[];
  /** Compute u and pValue at every look (costs a sort of all data); default only on PASS/FAIL. */
  describeEveryLook: boolean;
  metrics: Record<string, Partial<SequentialMetricSettings>>;
}

export const DEFAULT_SEQUENTIAL_METRIC: SequentialMetricSettings = {
  kind: 'auto',
  scale: 'auto',
  tailQuantiles: [0.99],
  tailMinimumRatio: 2,
  minimumSamples: 30,
};

export const DEFAULT_SEQUENTIAL_SETTINGS: SequentialSettings = {
  alpha: 0.01,
  beta: 0.05,
  mixture: DEFAULT_MIXTURE,
  describeEveryLook: false,
  metrics: {},
};

export const DEFAULT_MINIMUM_RATIO = 2;
export const DEFAULT_MINIMUM_RELATIVE_CHANGE = 0.1;

export function resolveSequentialSettings(
  partial: Partial<SequentialSettings> = {},
): SequentialSettings {
  return { ...DEFAULT_SEQUENTIAL_SETTINGS, ...partial };
}

export const metricSettingsFor = (
  settings: SequentialSettings,
  name: string,
): SequentialMetricSettings => ({ ...DEFAULT_SEQUENTIAL_METRIC, ...settings.metrics[name] });
