import { mannWhitneyU, mean } from '@rollgate/stats';
import type { MetricResult } from './types';

type RankFields = Pick<MetricResult, 'u' | 'pValue' | 'effect'>;

export const finiteValues = (values: readonly number[]): number[] => values.filter(Number.isFinite);

/** Mann-Whitney U and p plus the mean ratio, on finite values; nulls where undefined. */
export function rankStatistics(baseline: readonly number[], canary: readonly number[]): RankFields {
  const b = finiteValues(baseline);
  const c = finiteValues(canary);
  if (b.length === 0 || c.length === 0) return { u: null, pValue: null, effect: null };
  const { u, pValue } = mannWhitneyU(b, c);
  return { u, pValue, effect: meanRatio(b, c) };
}

/** mean(canary) / mean(baseline), null when either mean is 0 or undefined (as Kayenta's NaN). */
export function meanRatio(baseline: readonly number[], canary: readonly number[]): number | null {
  const ratio = mean(canary) / mean(baseline);
  return Number.isFinite(ratio) && mean(baseline) !== 0 && mean(canary) !== 0 ? ratio : null;
}

export const NO_RANK_STATISTICS: RankFields = { u: null, pValue: null, effect: null };

/** Three significant digits, without exponent noise for ordinary magnitudes. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(3)));
  return value.toExponential(2);
}

export const formatPercent = (share: number): string => `${formatNumber(share * 100)}%`;
