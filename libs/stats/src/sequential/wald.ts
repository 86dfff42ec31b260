/**
 * Wald's sequential probability ratio test (SPRT) between two simple hypotheses: the benchmark
 * floor. Among all tests with error rates α and β it needs the fewest observations on average under
 * both hypotheses (Wald–Wolfowitz), so no judge can beat its expected sample size at equal errors.
 */

/** Log likelihood-ratio boundaries: decide H1 at ≥ upper, H0 at ≤ lower. */
export function waldBoundaries(alpha: number, beta: number): { upper: number; lower: number } {
  return { upper: Math.log((1 - beta) / alpha), lower: Math.log(beta / (1 - alpha)) };
}

export interface WaldDrift {
  /** KL(H1 ‖ H0) per observation: mean growth of the log LR when H1 is true. */
  underAlternative: number;
  /** KL(H0 ‖ H1) per observation: mean decline of the log LR when H0 is true. */
  underNull: number;
}

/** Wald's approximations of E[N] (overshoot ignored), in observations. */
export function waldExpectedSampleSize(
  alpha: number,
  beta: number,
  drift: WaldDrift,
): { underAlternative: number; underNull: number } {
  const { upper, lower } = waldBoundaries(alpha, beta);
  return {
    underAlternative: ((1 - beta) * upper + beta * lower) / drift.underAlternative,
    underNull: -(alpha * upper + (1 - alpha) * lower) / drift.underNull,
  };
}

/** KL divergence between Bernoulli(p) and Bernoulli(q), in nats. */
export function bernoulliKl(p: number, q: number): number {
  const term = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  return term(p, q) + term(1 - p, 1 - q);
}
