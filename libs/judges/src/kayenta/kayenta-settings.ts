/** Kayenta's confidence level for the Mann-Whitney interval: hard-coded in NetflixACAJudge, so here. */
export const KAYENTA_CONF_LEVEL = 0.98;
/** The interval must clear zero by this fraction of |shift estimate|: also fixed in Kayenta. */
export const KAYENTA_TOLERANCE = 0.25;
/** Half or more of the scored metrics without data zeroes the score (Kayenta's NODATA_THRESHOLD). */
export const KAYENTA_NODATA_SHARE = 0.5;

export type EffectSizeMeasure = 'meanRatio' | 'cles';

export interface EffectSizeSettings {
  /** `meanRatio` = mean(canary)/mean(baseline); `cles` = P(canary > baseline) (Vargha–Delaney A). */
  measure: EffectSizeMeasure;
  /** High needs effect ≥ this. Default 1 (meanRatio) or 0.5 (cles): any detected increase. */
  allowedIncrease: number;
  /** Low needs effect ≤ this. Default 1 (meanRatio) or 0.5 (cles). */
  allowedDecrease: number;
  /** A critical metric fails critically only if High with effect ≥ this. Default as allowed. */
  criticalIncrease: number;
  /** A critical metric fails critically only if Low with effect ≤ this. Default as allowed. */
  criticalDecrease: number;
}

export interface KayentaMetricSettings {
  /** Groups the metric is scored in; default: a group of its own, named after the metric. */
  groups: string[];
  /** `remove` drops NaN (missing) values, `replace` turns them into 0. Default remove. */
  nanStrategy: 'remove' | 'replace';
  /** `remove` drops outliers beyond the IQR fences (after NaN handling). Default keep. */
  outlierStrategy: 'keep' | 'remove';
  /** Tukey fence factor k: Q1 − k·IQR, Q3 + k·IQR (widened to the 1st/99th percentile). Default 3. */
  outlierFactor: number;
  /** Missing data counts as a failure (NoDataFail) instead of being left out. Default false. */
  mustHaveData: boolean;
  /** Reported but not scored. Default false. */
  muted: boolean;
  effectSize: EffectSizeSettings;
}

export interface KayentaSettings {
  /** Score ≥ pass is PASS, ≥ marginal is MARGINAL, below is FAIL. Default 95 / 75. */
  scoreThresholds: { pass: number; marginal: number };
  /**
   * Weight (out of 100) per group; groups without one share what is left. Default {}: then
   * each group weighs its metrics' request `weight`s, normalised to 100.
   */
  groupWeights: Record<string, number>;
  /** Per-metric settings by metric name; anything left out takes the defaults. */
  metrics: Record<
    string,
    Partial<Omit<KayentaMetricSettings, 'effectSize'>> & {
      effectSize?: Partial<EffectSizeSettings>;
    }
  >;
}

export const DEFAULT_KAYENTA_SETTINGS: KayentaSettings = {
  scoreThresholds: { pass: 95, marginal: 75 },
  groupWeights: {},
  metrics: {},
};

const neutralEffect = (measure: EffectSizeMeasure): number => (measure === 'cles' ? 0.5 : 1);

export function metricSettings(settings: KayentaSettings, name: string): KayentaMetricSettings {
  const own = settings.metrics[name] ?? {};
  const measure = own.effectSize?.measure ?? 'meanRatio';
  const neutral = neutralEffect(measure);
  return {
    groups: own.groups ?? [name],
    nanStrategy: own.nanStrategy ?? 'remove',
    outlierStrategy: own.outlierStrategy ?? 'keep',
    outlierFactor: own.outlierFactor ?? 3,
    mustHaveData: own.mustHaveData ?? false,
    muted: own.muted ?? false,
    effectSize: {
      measure,
      allowedIncrease: own.effectSize?.allowedIncrease ?? neutral,
      allowedDecrease: own.effectSize?.allowedDecrease ?? neutral,
      criticalIncrease: own.effectSize?.criticalIncrease ?? neutral,
      criticalDecrease: own.effectSize?.criticalDecrease ?? neutral,
    },
  };
}

export function resolveKayentaSettings(partial: Partial<KayentaSettings> = {}): KayentaSettings {
  return {
    scoreThresholds: partial.scoreThresholds ?? DEFAULT_KAYENTA_SETTINGS.scoreThresholds,
    groupWeights: partial.groupWeights ?? {},
    metrics: partial.metrics ?? {},
  };
}
