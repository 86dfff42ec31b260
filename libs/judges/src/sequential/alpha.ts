import { weightOf } from '../scoring';
import type { MetricInput } from '../types';

/**
 * Each metric's share of α, in proportion to its weight, so the whole run falsely fails with
 * probability at most α (a union bound). Weight 0 gets no share: such a metric can never FAIL
 * the run, but must still PASS.
 */
export function alphaShares(
  inputs: readonly Pick<MetricInput, 'weight'>[],
  alpha: number,
): number[] {
  const total = inputs.reduce((sum, m) => sum + weightOf(m), 0);
  return inputs.map((m) =>
    Math.max(Number.MIN_VALUE, total > 0 ? (alpha * weightOf(m)) / total : 0),
  );
}
