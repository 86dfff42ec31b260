/** Standard normal distribution, accurate to about 1e-15 (absolute) and in the far tails (relative). */

const LOG_SQRT_2PI = 0.9189385332046728;

/** Density of the standard normal at z. */
export const normalPdf = (z: number): number => Math.exp(-0.5 * z * z - LOG_SQRT_2PI);

/** P(Z > z) for z >= 0; two methods because each loses precision in the other's range. */
function upperTail(z: number): number {
  if (z < 3) {
    // Taylor series of the integral from 0 to z (Marsaglia 2004); converges fast for small z.
    let sum = z;
    let term = z;
    for (let k = 3; sum + term !== sum; k += 2) {
      term *= (z * z) / k;
      sum += term;
    }
    return 0.5 - sum * normalPdf(z);
  }
  // Continued fraction for the Mills ratio, evaluated backwards; keeps relative precision far out.
  let fraction = z;
  for (let k = 60; k >= 1; k--) fraction = z + k / fraction;
  return normalPdf(z) / fraction;
}

/** Φ(z) = P(Z ≤ z). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return z >= 0 ? 1 - upperTail(z) : upperTail(-z);
}

/** P(Z > z), without the cancellation of 1 - Φ(z) for large z. */
export const normalSurvival = (z: number): number => normalCdf(-z);

// Acklam's rational approximation (relative error 1.15e-9), then one Halley step on normalCdf.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
  -3.066479806614716e1, 2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
  -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

const polynomial = (coefficients: readonly number[], x: number): number =>
  coefficients.reduce((acc, c) => acc * x + c, 0);

function acklam(p: number): number {
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return polynomial(C, q) / (polynomial(D, q) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -polynomial(C, q) / (polynomial(D, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (polynomial(A, r) * q) / (polynomial(B, r) * r + 1);
}

/** Φ⁻¹(p): the z with P(Z ≤ z) = p. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const x = acklam(p);
  const error = normalCdf(x) - p;
  const u = error / normalPdf(x);
  return x - u / (1 + (x * u) / 2);
}
