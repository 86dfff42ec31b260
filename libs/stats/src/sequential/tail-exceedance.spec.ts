import { createRandom } from '../random';
import { createTailExceedanceTest, observeTail, tailEvidence } from './tail-exceedance';

const options = {
  quantile: 0.9,
  tail: 'upper' as const,
  alpha: 0.05,
  beta: 0.05,
  minimumRatio: 2,
};

/**
 * Log-normal latencies whose slowest 31 % (z > 0.5) are stretched by `tailFactor`: the median is
 * unchanged. With factor 2, P(above the baseline's p90 = e^1.2816) = P(z > 1.2816 − ln 2) = 0.278.
 */
function latencies(seed: number, count: number, tailFactor: number): number[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => {
    const z = random.normal();
    return Math.exp(z) * (z > 0.5 ? tailFactor : 1);
  });
}

describe('tail-exceedance sequential test', () => {
  it('sets its threshold from earlier baseline values only', () => {
    let state = createTailExceedanceTest(options);
    state = observeTail(state, { baseline: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], canary: [100, 200] });
    // 10 values < 2/(1 − 0.9) = 20 needed: no threshold yet, so nothing was counted.
    expect(state.threshold).toBeNull();
    expect(state.counts.canary.trials).toBe(0);
    const values = Array.from({ length: 10 }, (_, i) => 11 + i);
    state = observeTail(state, { baseline: values, canary: [] });
    expect(state.threshold).toBeCloseTo(18.1, 12); // type-7 quantile 0.9 of 1..20
    state = observeTail(state, { baseline: [1, 1], canary: [19, 20, 5] });
    expect(state.counts.canary).toEqual({ events: 2, trials: 3 });
    expect(state.counts.baseline).toEqual({ events: 0, trials: 2 });
  });

  it('catches a regression in the tail alone and passes an unchanged distribution', () => {
    const decide = (seed: number, tailFactor: number) => {
      let state = createTailExceedanceTest(options);
      for (let look = 0; look < 60; look++) {
        state = observeTail(state, {
          baseline: latencies(seed * 1000 + look, 100, 1),
          canary: latencies(seed * 1000 + 500 + look, 100, tailFactor),
        });
        const { decision } = tailEvidence(state);
        if (decision !== 'continue') return decision;
      }
      return 'continue';
    };
    const regressed = Array.from({ length: 40 }, (_, i) => decide(i + 1, 2));
    const healthy = Array.from({ length: 40 }, (_, i) => decide(i + 100, 1));
    expect(regressed.filter((d) => d === 'regression').length).toBeGreaterThan(36);
    expect(healthy.filter((d) => d === 'regression').length).toBeLessThanOrEqual(2);
    expect(healthy.filter((d) => d === 'no-regression').length).toBeGreaterThan(36);
  });

  it('counts values below the lower quantile for the lower tail', () => {
    let state = createTailExceedanceTest({ ...options, tail: 'lower' });
    state = observeTail(state, {
      baseline: Array.from({ length: 20 }, (_, i) => i + 1),
      canary: [],
    });
    expect(state.threshold).toBeCloseTo(2.9, 12); // type-7 quantile 0.1 of 1..20
    state = observeTail(state, { baseline: [10], canary: [1, 2, 50] });
    expect(state.counts.canary).toEqual({ events: 2, trials: 3 });
  });
});
