import { finiteValues } from '../describe';
import { weightOf } from '../scoring';
import type { MetricInput } from '../types';
import { resolveKind } from './metric-tests';
import { metricSettingsFor, type SequentialSettings } from './sequential-settings';

/**
 * Each metric's share of α, in proportion to its weight times its kind's factor (`factors[i]`,
 * default 1), so the whole run falsely fails with probability at most α (a union bound: the
 * shares add up to α). Weight 0 gets no share: such a metric can never FAIL the run, but must
 * still PASS. The factors must be fixed before the tests start (they come from the metrics'
 * kinds, never from how the canary compares with the baseline), or the bound would not hold.
 */
export function alphaShares(
  inputs: readonly Pick<MetricInput, 'weight'>[],
  alpha: number,
  factors: readonly number[] = [],
): number[] {
  const factor = (i: number) => factors[i] ?? 1;
  if (inputs.some((_, i) => !(factor(i) > 0) || !Number.isFinite(factor(i)))) {
    throw new RangeError('alpha factors must be positive numbers');
  }
  const weights = inputs.map((m, i) => weightOf(m) * factor(i));
  const total = weights.reduce((sum, w) => sum + w, 0);
  return weights.map((w) => Math.max(Number.MIN_VALUE, total > 0 ? (alpha * w) / total : 0));
}

export type MetricKind = 'proportion' | 'continuous';

/**
 * The α shares of a request's metrics by weight and kind (a proportion counts
 * `proportionAlphaFactor` times its weight), with the kinds; null while a metric's kind is not
 * known yet (`auto` and no values). The sequential judge and the one-look window share α this way.
 */
export function alphaByKind(
  inputs: readonly MetricInput[],
  settings: SequentialSettings,
): { alphas: number[]; kinds: MetricKind[] } | null {
  const kinds = inputs.map((input) =>
    resolveKind(metricSettingsFor(settings, input.name).kind, [
      ...finiteValues(input.baseline),
      ...finiteValues(input.canary),
    ]),
  );
  if (kinds.some((kind) => kind === null)) return null;
  const known = kinds as MetricKind[];
  const factors = known.map((kind) => (kind === 'proportion' ? settings.proportionAlphaFactor : 1));
  return { alphas: alphaShares(inputs, settings.alpha, factors), kinds: known };
}
