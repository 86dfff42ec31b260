import { formatNumber } from '../describe';
import type { Verdict } from '../types';
import type { KayentaMetricResult } from './classify-metric';
import { KAYENTA_NODATA_SHARE, type KayentaSettings } from './kayenta-settings';

export interface ScoredMetric {
  result: KayentaMetricResult;
  groups: string[];
  /** Request weight, used for group weights when none are configured. */
  weight: number;
}

export interface KayentaScore {
  verdict: Verdict;
  score: number;
  reasons: string[];
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Pass / (Pass + High + Low + NoDataFail) × 100; null when nothing in the group counts. */
function groupScore(members: readonly ScoredMetric[]): number | null {
  const counted = members.filter((m) => m.result.classification !== 'NoData');
  if (counted.length === 0) return null;
  const passing = counted.filter((m) => m.result.classification === 'Pass').length;
  return (100 * passing) / counted.length;
}

/** Kayenta's rule: configured weights, the rest of 100 shared by the groups without one. */
function configuredWeights(
  groups: string[],
  configured: Record<string, number>,
): Map<string, number> {
  const unweighted = groups.filter((g) => configured[g] === undefined);
  const given = groups.reduce((sum, g) => sum + (configured[g] ?? 0), 0);
  const share = unweighted.length > 0 ? (100 - given) / unweighted.length : 0;
  return new Map(groups.map((g) => [g, configured[g] ?? share]));
}

/** Without configured weights: the request weights of each group's metrics, normalised to 100. */
function requestWeights(groups: string[], metrics: readonly ScoredMetric[]): Map<string, number> {
  const raw = groups.map((g) =>
    metrics.filter((m) => m.groups.includes(g)).reduce((sum, m) => sum + m.weight, 0),
  );
  const total = raw.reduce((sum, w) => sum + w, 0);
  return new Map(groups.map((g, i) => [g, total > 0 ? (100 * raw[i]) / total : 0]));
}

/** Weighted group scores into 0–100, Kayenta's overrides, then the verdict. */
export function scoreMetrics(
  metrics: readonly ScoredMetric[],
  settings: KayentaSettings,
): KayentaScore {
  if (metrics.length === 0) return { verdict: 'NODATA', score: 0, reasons: ['no metric to score'] };
  const groups = [...new Set(metrics.flatMap((m) => m.groups))];
  const weights =
    Object.keys(settings.groupWeights).length > 0
      ? configuredWeights(groups, settings.groupWeights)
      : requestWeights(groups, metrics);
  // A group with nothing countable shows 0 in Kayenta's report but adds its full weight here.
  const summary = round2(
    groups.reduce((sum, g) => {
      const score = groupScore(metrics.filter((m) => m.groups.includes(g)));
      return sum + ((score ?? 100) * (weights.get(g) ?? 0)) / 100;
    }, 0),
  );
  return overrideOrClassify(metrics, summary, settings);
}

function overrideOrClassify(
  metrics: readonly ScoredMetric[],
  summary: number,
  settings: KayentaSettings,
): KayentaScore {
  const critical = metrics.filter((m) => m.result.criticalFailure);
  const criticalFailures = critical.filter((m) => m.result.classification !== 'NoData');
  if (criticalFailures.length > 0) {
    const names = criticalFailures.map((m) => `${m.result.name} (${m.result.classification})`);
    return { verdict: 'FAIL', score: 0, reasons: [`critical metric failed: ${names.join(', ')}`] };
  }
  // Kayenta fails these two with score 0; a lack of data is NODATA here, never PASS nor FAIL.
  if (critical.length > 0) {
    const names = critical.map((m) => m.result.name).join(', ');
    return { verdict: 'NODATA', score: 0, reasons: [`critical metric without data: ${names}`] };
  }
  const noData = metrics.filter((m) => m.result.classification === 'NoData');
  if (noData.length / metrics.length >= KAYENTA_NODATA_SHARE) {
    const reason = `${noData.length} of ${metrics.length} metrics have no data`;
    return { verdict: 'NODATA', score: 0, reasons: [reason] };
  }
  return classifyScore(
    summary,
    noData.map((m) => m.result.name),
    settings,
  );
}

function classifyScore(score: number, noData: string[], settings: KayentaSettings): KayentaScore {
  const { pass, marginal } = settings.scoreThresholds;
  const text = `score ${formatNumber(score)}`;
  if (score >= pass && noData.length > 0) {
    // Kayenta would pass here; a metric without data must not let a canary through.
    return {
      verdict: 'NODATA',
      score,
      reasons: [`${text} would pass, but no data for: ${noData.join(', ')}`],
    };
  }
  if (score >= pass)
    return { verdict: 'PASS', score, reasons: [`${text} ≥ pass threshold ${pass}`] };
  if (score >= marginal) {
    return {
      verdict: 'MARGINAL',
      score,
      reasons: [`${text} is below pass ${pass} but ≥ marginal ${marginal}`],
    };
  }
  return { verdict: 'FAIL', score, reasons: [`${text} < marginal threshold ${marginal}`] };
}
