import type { MixtureComponent } from '@rollgate/stats';

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
  /**
   * Alternatives mixed by the tests, as multiples of the minimum regression. Default: a fine grid
   * from 1 to 4 in steps of ¼, weighted 1/multiple (see SEQUENTIAL_MIXTURE).
   */
  mixture: readonly MixtureComponent[];
  /** The shift test's mixture (continuous metrics). Default: `mixture` plus a tail to 64×. */
  shiftMixture: readonly MixtureComponent[];
  /**
   * How many times its weight a proportion metric (0/1 per request, e.g. errors) counts when α is
   * shared across metrics; continuous metrics count their weight once. Default 4: with one error
   * rate and one latency metric, the error rate gets 80% of α and latency 20%. An error
   * regression is what a canary exists to catch, and its one test is the slowest to gather
   * evidence (errors are rare); latency has data on every request. The shares still add up to α.
   */
  proportionAlphaFactor: number;
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

/**
 * The FAIL side's mixing distribution: most weight on the minimum regression, thinning out to 4×
 * it (on the log scale: rate ratios 2 to 16 for the default ×2). A fine grid loses little against
 * a test tuned to the true effect wherever it lies, because neighbouring alternatives add up; the
 * former coarse grid (1, 2, 3, 4 × equal weights) fell between its points. In simulation (errors
 * 1% → 2% and 1% → 5% at 10 req/s) this cut the median time to FAIL at ratio 2 by 7% and the 99th
 * percentile at ratio 5 by 7%, with the same false-alarm rate.
 */
export const SEQUENTIAL_MIXTURE: readonly MixtureComponent[] = Array.from(
  { length: 13 },
  (_, i) => ({ multiple: 1 + i / 4, weight: 1 / (1 + i / 4) }),
);

/**
 * The shift test's mixture: the same grid, plus a thin tail out to 64× the minimum (√2 apart,
 * a prior density falling as 1/multiple², 13% of the mass). A shift can be many times the minimum, e.g.
 * per-interval error rates of 1% → 5% against a default minimum of 10% of the baseline mean (40×):
 * a mixture that stops at 4× grows its evidence far slower than the data allow, and one look at 30
 * such intervals stayed MARGINAL about one time in three; with the tail it FAILs every time.
 */
export const SEQUENTIAL_SHIFT_MIXTURE: readonly MixtureComponent[] = [
  ...SEQUENTIAL_MIXTURE,
  ...Array.from({ length: 8 }, (_, k) => {
    const multiple = 4 * Math.SQRT2 ** (k + 1);
    return { multiple, weight: (4 * (Math.SQRT2 - 1)) / multiple };
  }),
];

export const DEFAULT_SEQUENTIAL_SETTINGS: SequentialSettings = {
  alpha: 0.01,
  beta: 0.05,
  mixture: SEQUENTIAL_MIXTURE,
  shiftMixture: SEQUENTIAL_SHIFT_MIXTURE,
  proportionAlphaFactor: 4,
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
