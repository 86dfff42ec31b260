import { mean, quantileSorted, sortedAscending } from '@rollgate/stats';
import { finiteValues, formatNumber, rankStatistics } from '../describe';
import { namesWith, passShareScore } from '../scoring';
import type { Judge, JudgeRequest, JudgeVerdict, MetricInput, MetricResult } from '../types';
import {
  conditionFor,
  DEFAULT_THRESHOLD_SETTINGS,
  type Aggregate,
  type ThresholdCondition,
  type ThresholdSettings,
} from './threshold-settings';

const QUANTILES: Record<string, number> = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 };

/** The aggregate of already finite values. */
function aggregate(values: number[], which: Aggregate): number {
  if (which === 'mean') return mean(values);
  const sorted = sortedAscending(values);
  if (which === 'min') return sorted[0];
  if (which === 'max') return sorted[sorted.length - 1];
  return quantileSorted(sorted, QUANTILES[which]);
}

/**
 * Argo Rollouts / Flagger style: success conditions on the canary alone, no baseline needed.
 * The fallback when traffic is too low for any comparison; it cannot tell a bad build from a bad
 * hour, so its bounds must come from the service's objectives.
 */
export class ThresholdJudge implements Judge {
  readonly name = 'threshold' as const;
  private readonly settings: ThresholdSettings;

  constructor(settings: Partial<ThresholdSettings> = {}) {
    this.settings = { conditions: settings.conditions ?? DEFAULT_THRESHOLD_SETTINGS.conditions };
  }

  judge(request: JudgeRequest): JudgeVerdict {
    const metrics = request.metrics.map((metric) => this.check(metric));
    const score = passShareScore(request.metrics, metrics);
    const failed = namesWith(metrics, (c) => c === 'High' || c === 'Low');
    const missing = namesWith(metrics, (c) => c === 'NoData');
    if (failed.length > 0) {
      return {
        verdict: 'FAIL',
        score,
        metrics,
        reasons: [`condition violated: ${failed.join(', ')}`],
      };
    }
    if (missing.length > 0 || metrics.length === 0) {
      const reason =
        missing.length > 0 ? `nothing to check for: ${missing.join(', ')}` : 'no metrics';
      return { verdict: 'NODATA', score, metrics, reasons: [reason] };
    }
    return { verdict: 'PASS', score, metrics, reasons: ['every condition holds on the canary'] };
  }

  private check(metric: MetricInput): MetricResult {
    const stats = rankStatistics(metric.baseline, metric.canary);
    const result = (
      classification: MetricResult['classification'],
      reason: string,
    ): MetricResult => ({
      name: metric.name,
      classification,
      ...stats,
      reason,
    });
    const condition = conditionFor(this.settings, metric.name);
    if (!condition) return result('NoData', 'no threshold configured for this metric');
    const canary = finiteValues(metric.canary);
    if (canary.length < condition.minSamples) {
      return result('NoData', `${canary.length} canary values, ${condition.minSamples} needed`);
    }
    return this.compare(aggregate(canary, condition.aggregate), condition, result);
  }

  private compare(
    value: number,
    condition: ThresholdCondition,
    result: (c: MetricResult['classification'], reason: string) => MetricResult,
  ): MetricResult {
    const shown = `canary ${condition.aggregate} ${formatNumber(value)}`;
    if (condition.max !== undefined && value > condition.max) {
      return result('High', `${shown} is above the maximum ${formatNumber(condition.max)}`);
    }
    if (condition.min !== undefined && value < condition.min) {
      return result('Low', `${shown} is below the minimum ${formatNumber(condition.min)}`);
    }
    const bounds = [
      condition.min !== undefined ? `≥ ${formatNumber(condition.min)}` : null,
      condition.max !== undefined ? `≤ ${formatNumber(condition.max)}` : null,
    ].filter(Boolean);
    return result('Pass', `${shown} is within bounds (${bounds.join(' and ')})`);
  }
}
