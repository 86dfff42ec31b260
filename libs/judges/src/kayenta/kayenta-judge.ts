import { weightOf } from '../scoring';
import type { Judge, JudgeRequest, JudgeVerdict, MetricInput, MetricResult } from '../types';
import { classifyMetric, type KayentaMetricResult } from './classify-metric';
import {
  metricSettings,
  resolveKayentaSettings,
  type KayentaMetricSettings,
  type KayentaSettings,
} from './kayenta-settings';
import { scoreMetrics } from './score';
import { transformSeries } from './transforms';

/**
 * A re-implementation of Netflix's ACA judge (Kayenta's NetflixACAJudge): per metric a
 * Mann-Whitney 98% interval for the shift plus an effect-size check, then group-weighted scoring.
 * Differences, all toward safety: a metric without data never lets a canary PASS (Kayenta scores
 * an empty group as 100 and passes an empty series under nanStrategy `replace`), and missing data
 * on a critical metric gives NODATA rather than FAIL.
 */
export class KayentaJudge implements Judge {
  readonly name = 'kayenta' as const;
  private readonly settings: KayentaSettings;

  constructor(settings: Partial<KayentaSettings> = {}) {
    this.settings = resolveKayentaSettings(settings);
  }

  judge(request: JudgeRequest): JudgeVerdict {
    const judged = request.metrics.map((metric) => {
      const settings = metricSettings(this.settings, metric.name);
      return { metric, settings, result: this.classify(metric, settings) };
    });
    const scored = judged
      .filter(({ settings }) => !settings.muted)
      .map(({ metric, settings, result }) => ({
        result,
        groups: settings.groups,
        weight: weightOf(metric),
      }));
    const { verdict, score, reasons } = scoreMetrics(scored, this.settings);
    return {
      verdict,
      score,
      reasons,
      metrics: judged.map(({ settings, result }) => {
        const shown = publicResult(result);
        return settings.muted ? { ...shown, reason: `muted, not scored: ${shown.reason}` } : shown;
      }),
    };
  }

  private classify(metric: MetricInput, settings: KayentaMetricSettings): KayentaMetricResult {
    const series = {
      baseline: transformSeries(metric.baseline, settings),
      canary: transformSeries(metric.canary, settings),
    };
    return classifyMetric(
      metric.name,
      series,
      metric.direction,
      metric.critical ?? false,
      settings,
    );
  }
}

/** The result without the internal critical-override flag. */
const publicResult = (result: KayentaMetricResult): MetricResult => ({
  name: result.name,
  classification: result.classification,
  u: result.u,
  pValue: result.pValue,
  effect: result.effect,
  reason: result.reason,
});
