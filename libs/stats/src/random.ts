/** Seeded pseudo-random numbers for simulations and tests: the same seed gives the same sequence. */
export interface Random {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal. */
  normal(): number;
  /** Poisson with the given mean. */
  poisson(mean: number): number;
  bernoulli(p: number): boolean;
}

/** mulberry32: tiny, fast and good enough for simulation (not for cryptography). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | null = null;
  const normal = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    // Box-Muller; 1 − u keeps the logarithm away from 0.
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
  const poisson = (mean: number): number => {
    let count = 0;
    // Knuth's product method, in chunks so that e^(−mean) never underflows.
    for (let left = mean; left > 0; left -= 30) {
      const limit = Math.exp(-Math.min(left, 30));
      let product = uniform();
      while (product > limit) {
        count++;
        product *= uniform();
      }
    }
    return count;
  };
  return { uniform, normal, poisson, bernoulli: (p) => uniform() < p };
}
