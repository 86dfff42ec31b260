/**
 * Shared machinery of the mixture sequential probability ratio tests (mSPRT) in this folder.
 *
 * A test keeps, for a few alternative effects θ, the log likelihood ratio of "effect θ" against
 * "no change". Averaged with prior weights, those ratios form one likelihood ratio that is a
 * non-negative martingale with mean 1 when nothing changed, so by Ville's inequality it ever reaches
 * 1/α with probability at most α, however often (and whenever) anyone looks. That is the FAIL side.
 * The PASS side is Wald's: the data favour "no change" over the smallest regression worth catching
 * (θ₁) by 1/β or more; if the truth is θ₁ or worse, that happens with probability at most β.
 */

/** Which side of the effect is a regression (the bad direction). */
export type RegressionSide = 'increase' | 'decrease' | 'either';

export interface MixtureComponent {
  /** Alternative effect as a multiple of the minimum effect θ₁. */
  multiple: number;
  /** Prior weight; weights are normalised, so only their ratios matter. */
  weight: number;
}

/**
 * Equal weight on θ₁, 2θ₁, 3θ₁ and 4θ₁. Effects are on a log scale for rates and latency, so with
 * θ₁ = ln 2 these are rate ratios 2, 4, 8 and 16: a regression anywhere in that range is caught
 * nearly as fast as by a test tuned to it, at the price of ln 4 ≈ 1.4 nats of extra evidence.
 */
export const DEFAULT_MIXTURE: readonly MixtureComponent[] = [
  { multiple: 1, weight: 1 },
  { multiple: 2, weight: 1 },
  { multiple: 3, weight: 1 },
  { multiple: 4, weight: 1 },
];

export interface SequentialOptions {
  /** Bound on P(ever decide "regression") when nothing changed. */
  alpha: number;
  /** Bound on P(ever decide "no regression") when the regression is θ₁ or larger. */
  beta: number;
  /** θ₁ > 0: the smallest regression worth catching, on the test's effect scale. */
  minimumEffect: number;
  side: RegressionSide;
  mixture?: readonly MixtureComponent[];
}

export type SequentialDecision = 'regression' | 'no-regression' | 'continue';

export interface SequentialEvidence {
  decision: SequentialDecision;
  /** Mixture likelihood ratio against "no change" at this look (an e-value). */
  eValue: number;
  /** Always-valid p-value: min over all looks so far of 1 / eValue, at most 1. */
  alwaysValidP: number;
  /** Estimated effect on the test's scale (sign: positive means the canary is higher). */
  estimate: number;
}

/** The effects a test tracks: the mixture's (signed toward each bad side) plus ±θ₁ for PASS. */
export interface Alternatives {
  effects: number[];
  /** Normalised prior weights, 0 for the PASS-only points. */
  weights: number[];
  /** Indexes of ±θ₁, where the PASS rule is checked. */
  passIndices: number[];
}

const badSigns = (side: RegressionSide): number[] =>
  side === 'either' ? [1, -1] : side === 'increase' ? [1] : [-1];

export function alternatives(options: SequentialOptions): Alternatives {
  validateOptions(options);
  const mixture = options.mixture ?? DEFAULT_MIXTURE;
  const signs = badSigns(options.side);
  const totalWeight = mixture.reduce((sum, c) => sum + c.weight, 0) * signs.length;
  const effects: number[] = [];
  const weights: number[] = [];
  const passIndices: number[] = [];
  for (const sign of signs) {
    for (const component of mixture) {
      effects.push(sign * component.multiple * options.minimumEffect);
      weights.push(component.weight / totalWeight);
    }
    passIndices.push(effects.length);
    effects.push(sign * options.minimumEffect); // the PASS point, tracked even if not in the mixture
    weights.push(0);
  }
  return { effects, weights, passIndices };
}

function validateOptions(options: SequentialOptions): void {
  const inUnit = (x: number) => x > 0 && x < 1;
  if (!inUnit(options.alpha) || !inUnit(options.beta)) {
    throw new RangeError('alpha and beta must be in (0, 1)');
  }
  if (!(options.minimumEffect > 0) || !Number.isFinite(options.minimumEffect)) {
    throw new RangeError('minimumEffect must be a positive number');
  }
  const mixture = options.mixture ?? DEFAULT_MIXTURE;
  if (mixture.length === 0 || mixture.some((c) => !(c.multiple > 0) || !(c.weight >= 0))) {
    throw new RangeError('mixture needs components with positive multiples and weights ≥ 0');
  }
  if (!(mixture.reduce((sum, c) => sum + c.weight, 0) > 0)) {
    throw new RangeError('mixture weights must not all be 0');
  }
}

export function mixtureEValue(alts: Alternatives, logLr: readonly number[]): number {
  let eValue = 0;
  alts.effects.forEach((_, k) => {
    if (alts.weights[k] > 0) eValue += alts.weights[k] * Math.exp(logLr[k]);
  });
  return eValue;
}

/** Decide from the tracked log likelihood ratios; `maxEValue` (over earlier looks) keeps p always valid. */
export function decide(
  options: SequentialOptions,
  alts: Alternatives,
  logLr: readonly number[],
  maxEValue: number,
  estimate: number,
): SequentialEvidence {
  const eValue = mixtureEValue(alts, logLr);
  const alwaysValidP = Math.min(1, 1 / Math.max(maxEValue, eValue));
  const noRegression = alts.passIndices.every((k) => logLr[k] <= Math.log(options.beta));
  const decision: SequentialDecision =
    eValue >= 1 / options.alpha ? 'regression' : noRegression ? 'no-regression' : 'continue';
  return { decision, eValue, alwaysValidP, estimate };
}
