import { hodgesLehmann, mannWhitneyU, sortedAscending } from '@rollgate/stats';
import { formatNumber, meanRatio } from '../describe';
import type { Classification, Direction, MetricResult } from '../types';
import {
  KAYENTA_CONF_LEVEL,
  KAYENTA_TOLERANCE,
  type EffectSizeSettings,
  type KayentaMetricSettings,
} from './kayenta-settings';

export interface KayentaMetricResult extends MetricResult {
  /** Set when this metric's failure overrides the whole score (Kayenta's critical flag). */
  criticalFailure: boolean;
}

interface Series {
  baseline: number[];
  canary: number[];
}

/** Kayenta's MannWhitneyClassifier decision for one metric, on already transformed series. */
export function classifyMetric(
  name: string,
  series: Series,
  direction: Direction,
  critical: boolean,
  settings: KayentaMetricSettings,
): KayentaMetricResult {
  const result = (
    classification: Classification,
    reason: string,
    criticalFailure = false,
    stats: Pick<MetricResult, 'u' | 'pValue' | 'effect'> = { u: null, pValue: null, effect: null },
  ): KayentaMetricResult => ({ name, classification, ...stats, reason, criticalFailure });

  if (series.baseline.length === 0 || series.canary.length === 0) {
    const missing = series.baseline.length === 0 ? 'baseline' : 'canary';
    if (settings.mustHaveData && !critical) {
      return result('NoDataFail', `no ${missing} data, and the metric must have data`);
    }
    return result('NoData', `no ${missing} data`, critical);
  }
  const { u, pValue } = mannWhitneyU(series.baseline, series.canary);
  const effect = effectSize(series, u, settings.effectSize);
  const stats = { u, pValue, effect: Number.isNaN(effect) ? null : effect };
  if (sameValues(series))
    return result('Pass', 'canary and baseline data are identical', false, stats);
  if (new Set([...series.baseline, ...series.canary]).size === 1) {
    return result('Pass', 'every value is the same', false, stats);
  }
  return compare(series, direction, critical, settings.effectSize, (c, reason, crit) =>
    result(c, reason, crit, stats),
  );
}

function compare(
  series: Series,
  direction: Direction,
  critical: boolean,
  effectSettings: EffectSizeSettings,
  result: (c: Classification, reason: string, criticalFailure: boolean) => KayentaMetricResult,
): KayentaMetricResult {
  const shift = hodgesLehmann(series.baseline, series.canary, KAYENTA_CONF_LEVEL);
  const tolerance = KAYENTA_TOLERANCE * Math.abs(shift.estimate);
  const effect = effectSize(series, NaN, effectSettings);
  const interval = `shift ${formatNumber(shift.estimate)}, 98% CI [${formatNumber(shift.lower)}, ${formatNumber(shift.upper)}]`;
  const effectText = `${effectSettings.measure} ${Number.isNaN(effect) ? 'undefined' : formatNumber(effect)}`;
  const clearsUp = shift.lower > tolerance;
  const clearsDown = shift.upper < -tolerance;
  const largeUp = Number.isNaN(effect) || effect >= effectSettings.allowedIncrease;
  const largeDown = Number.isNaN(effect) || effect <= effectSettings.allowedDecrease;
  if (direction !== 'decrease' && clearsUp && largeUp) {
    const criticalFailure =
      critical && (Number.isNaN(effect) || effect >= effectSettings.criticalIncrease);
    return result(
      'High',
      `canary is higher: ${interval} lies above +${formatNumber(tolerance)}; ${effectText}`,
      criticalFailure,
    );
  }
  if (direction !== 'increase' && clearsDown && largeDown) {
    const criticalFailure =
      critical && (Number.isNaN(effect) || effect <= effectSettings.criticalDecrease);
    return result(
      'Low',
      `canary is lower: ${interval} lies below −${formatNumber(tolerance)}; ${effectText}`,
      criticalFailure,
    );
  }
  return result('Pass', passReason(direction, clearsUp, clearsDown, interval, effectText), false);
}

function passReason(
  direction: Direction,
  clearsUp: boolean,
  clearsDown: boolean,
  interval: string,
  effectText: string,
): string {
  if (clearsUp && direction === 'decrease')
    return `canary is higher, but only a decrease is bad (${interval})`;
  if (clearsDown && direction === 'increase')
    return `canary is lower, but only an increase is bad (${interval})`;
  if (clearsUp || clearsDown)
    return `difference below the allowed effect size: ${effectText} (${interval})`;
  return `no clear difference: ${interval} does not clear the ±25% tolerance`;
}

/** The configured effect size; `u` lets CLES reuse the U already computed (NaN: recompute). */
function effectSize(series: Series, u: number, settings: EffectSizeSettings): number {
  if (settings.measure === 'cles') {
    const canaryU = Number.isNaN(u) ? mannWhitneyU(series.baseline, series.canary).u : u;
    return canaryU / (series.baseline.length * series.canary.length);
  }
  return meanRatio(series.baseline, series.canary) ?? NaN;
}

function sameValues(series: Series): boolean {
  if (series.baseline.length !== series.canary.length) return false;
  const a = sortedAscending(series.baseline);
  const b = sortedAscending(series.canary);
  return a.every((v, i) => v === b[i]);
}
