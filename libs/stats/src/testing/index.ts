/** Reference implementations for tests: slow, exact, obviously correct. */

/** Every way to choose k of the indexes 0..n-1 (small n only). */
function* subsets(n: number, k: number, from = 0, chosen: number[] = []): Generator<number[]> {
  if (chosen.length === k) {
    yield chosen;
    return;
  }
  for (let i = from; i <= n - (k - chosen.length); i++) yield* subsets(n, k, i + 1, [...chosen, i]);
}

/**
 * One-sided permutation p of a statistic: relabel the pooled values in every possible way (canary
 * = any subset of the right size) and count relabellings at least as extreme as the observed one.
 */
export function permutationP(
  baseline: number[],
  canary: number[],
  statistic: (b: number[], c: number[]) => number,
  side: 'greater' | 'less' = 'greater',
): number {
  const pooled = [...baseline, ...canary];
  const observed = statistic(baseline, canary);
  let extreme = 0;
  let total = 0;
  for (const chosen of subsets(pooled.length, canary.length)) {
    const inCanary = new Set(chosen);
    const c = pooled.filter((_, i) => inCanary.has(i));
    const b = pooled.filter((_, i) => !inCanary.has(i));
    const value = statistic(b, c);
    total++;
    // A tolerance for the half-integers of U: exact comparisons of sums of halves.
    if (side === 'greater' ? value >= observed - 1e-9 : value <= observed + 1e-9) extreme++;
  }
  return extreme / total;
}

/** Per-interval error rates: `intervals` intervals of `requests` requests failing with probability p. */
export function intervalRates(
  random: { uniform(): number },
  p: number,
  intervals = 30,
  requests = 100,
): number[] {
  return Array.from({ length: intervals }, () => {
    let errors = 0;
    for (let i = 0; i < requests; i++) if (random.uniform() < p) errors++;
    return errors / requests;
  });
}
