import { normalCdf } from './normal';

export interface Counts {
  /** Requests (or other trials) that had the event, e.g. errors. */
  events: number;
  /** All requests (trials). */
  trials: number;
}

export interface TwoProportionResult {
  baselineRate: number;
  canaryRate: number;
  /** canaryRate − baselineRate. */
  difference: number;
  /** Pooled two-proportion z statistic; 0 when the pooled rate is 0 or 1. */
  z: number;
  /** Two-sided p-value; 1 when the pooled rate is 0 or 1 (no variation, no evidence). */
  pValue: number;
}

/** Pooled two-proportion z test of canary against baseline (fixed sample: look once). */
export function twoProportionTest(baseline: Counts, canary: Counts): TwoProportionResult {
  assertCounts('baseline', baseline);
  assertCounts('canary', canary);
  const baselineRate = baseline.events / baseline.trials;
  const canaryRate = canary.events / canary.trials;
  const pooled = (baseline.events + canary.events) / (baseline.trials + canary.trials);
  const variance = pooled * (1 - pooled) * (1 / baseline.trials + 1 / canary.trials);
  const difference = canaryRate - baselineRate;
  if (!(variance > 0)) return { baselineRate, canaryRate, difference, z: 0, pValue: 1 };
  const z = difference / Math.sqrt(variance);
  return {
    baselineRate,
    canaryRate,
    difference,
    z,
    pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))),
  };
}

export function assertCounts(label: string, counts: Counts): void {
  const { events, trials } = counts;
  if (!Number.isInteger(events) || !Number.isInteger(trials) || events < 0 || trials < 1) {
    throw new RangeError(`${label} counts must be integers with trials ≥ 1 and events ≥ 0`);
  }
  if (events > trials) throw new RangeError(`${label} has more events than trials`);
}
