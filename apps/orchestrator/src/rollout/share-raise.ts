import type { Step } from '@rollgate/releases';

/**
 * A step's weights with canary and baseline each raised to `percent` (the stable set gives up
 * what they gain). Only a step that compares canary with baseline is raised, never beyond 50%
 * each nor below the step's own share; otherwise the weights stay as planned.
 */
export function raisedWeights(weights: Step['weights'], percent: number): Step['weights'] {
  const canary = weights.canary ?? 0;
  const baseline = weights.baseline ?? 0;
  const stable = weights.stable ?? 0;
  const to = Math.min(50, Math.floor(percent));
  if (canary <= 0 || canary !== baseline || to <= canary) return weights;
  return { ...weights, stable: stable - 2 * (to - canary), baseline: to, canary: to };
}
