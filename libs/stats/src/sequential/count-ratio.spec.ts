import { createRandom, type Random } from '../random';
import { twoProportionTest } from '../two-proportions';
import { countRatioEvidence, createCountRatioTest, observeCounts } from './count-ratio';

const options = { alpha: 0.05, beta: 0.05, minimumRatio: 2, side: 'increase' as const };

function binomial(random: Random, trials: number, p: number): number {
  let events = 0;
  for (let i = 0; i < trials; i++) if (random.uniform() < p) events++;
  return events;
}

/** One simulated canary: looks every interval until a decision or the last look. */
function simulate(
  seed: number,
  baselineRate: number,
  canaryRate: number,
  looks: number,
  trials: number,
) {
  const random = createRandom(seed);
  let state = createCountRatioTest(options);
  let naiveRejected = false;
  const totals = { canary: { events: 0, trials: 0 }, baseline: { events: 0, trials: 0 } };
  for (let look = 1; look <= looks; look++) {
    const interval = {
      canary: { events: binomial(random, trials, canaryRate), trials },
      baseline: { events: binomial(random, trials, baselineRate), trials },
    };
    state = observeCounts(state, interval);
    for (const side of ['canary', 'baseline'] as const) {
      totals[side].events += interval[side].events;
      totals[side].trials += trials;
    }
    // What peeking with a fixed-sample test does: a 5% two-proportion test at every look.
    if (twoProportionTest(totals.baseline, totals.canary).pValue < 0.05) naiveRejected = true;
    const { decision } = countRatioEvidence(state);
    if (decision !== 'continue') return { decision, look, naiveRejected };
  }
  return { decision: 'continue' as const, look: looks, naiveRejected };
}

describe('count-ratio sequential test by hand', () => {
  it('one interval, 3 canary and 1 baseline error in 100 requests each', () => {
    const state = observeCounts(createCountRatioTest(options), {
      canary: { events: 3, trials: 100 },
      baseline: { events: 1, trials: 100 },
    });
    // Ratio r gives the canary share 2r/(r+1)·½; LR_r = (2r/(r+1))³·(2/(r+1)).
    // r = 2: (4/3)³·(2/3) = 1.580247; 4: 1.6³·0.4 = 1.6384; 8: (16/9)³·(2/9) = 1.248590;
    // 16: (32/17)³·(2/17) = 0.784671. Equal weights: e-value = 1.312977.
    const evidence = countRatioEvidence(state);
    expect(evidence.eValue).toBeCloseTo(1.312977, 5);
    expect(evidence.alwaysValidP).toBeCloseTo(1 / 1.312977, 5);
    expect(evidence.ratio).toBeCloseTo(3.5 / 1.5, 12);
    expect(evidence.decision).toBe('continue');
  });

  it('uses the traffic split as the share expected under no change', () => {
    // 100 canary and 300 baseline requests: no change means a 25 % canary share of the errors.
    const state = observeCounts(createCountRatioTest(options), {
      canary: { events: 1, trials: 100 },
      baseline: { events: 3, trials: 300 },
    });
    // At r = 2 the share is 200/500 = 0.4: log LR = ln(0.4/0.25) + 3·ln(0.6/0.75) = −0.199451
    expect(state.logLr[0]).toBeCloseTo(Math.log(0.4 / 0.25) + 3 * Math.log(0.6 / 0.75), 12);
  });

  it('skips intervals without errors or traffic', () => {
    const start = createCountRatioTest(options);
    const next = observeCounts(start, {
      canary: { events: 0, trials: 0 },
      baseline: { events: 0, trials: 40 },
    });
    expect(next.logLr).toEqual(start.logLr);
    expect(next.baseline.trials).toBe(40);
  });

  it('watches both directions when either is bad', () => {
    const either = createCountRatioTest({ ...options, side: 'either' });
    const low = observeCounts(either, {
      canary: { events: 0, trials: 1000 },
      baseline: { events: 40, trials: 1000 },
    });
    expect(countRatioEvidence(low).decision).toBe('regression');
    expect(countRatioEvidence(low).estimate).toBeLessThan(0);
  });

  it('rejects invalid options and counts', () => {
    expect(() => createCountRatioTest({ ...options, minimumRatio: 1 })).toThrow('minimumRatio');
    expect(() => createCountRatioTest({ ...options, alpha: 0 })).toThrow('alpha and beta');
    expect(() =>
      observeCounts(createCountRatioTest(options), {
        canary: { events: 3, trials: 2 },
        baseline: { events: 0, trials: 1 },
      }),
    ).toThrow('canary has more events than trials');
  });
});

describe('count-ratio sequential test under continuous monitoring', () => {
  it('keeps false regressions below alpha over 60 looks, where peeking at a 5% test does not', () => {
    const runs = Array.from({ length: 400 }, (_, i) => simulate(1000 + i, 0.02, 0.02, 60, 50));
    const falseRegressions = runs.filter((r) => r.decision === 'regression').length / runs.length;
    const naive = runs.filter((r) => r.naiveRejected).length / runs.length;
    expect(falseRegressions).toBeLessThanOrEqual(options.alpha);
    expect(naive).toBeGreaterThan(2 * options.alpha);
  });

  it('stops early on a large regression and never calls it healthy', () => {
    const runs = Array.from({ length: 200 }, (_, i) => simulate(5000 + i, 0.01, 0.05, 60, 100));
    const caught = runs.filter((r) => r.decision === 'regression');
    expect(caught.length / runs.length).toBeGreaterThan(0.95);
    const looks = caught.map((r) => r.look).sort((a, b) => a - b);
    expect(looks[Math.floor(looks.length / 2)]).toBeLessThanOrEqual(6);
    expect(runs.some((r) => r.decision === 'no-regression')).toBe(false);
  });

  it('accepts a healthy canary once the data rule out a doubling', () => {
    const runs = Array.from({ length: 100 }, (_, i) => simulate(9000 + i, 0.05, 0.05, 60, 200));
    expect(runs.filter((r) => r.decision === 'no-regression').length).toBeGreaterThan(90);
  });

  it('makes the always-valid p-value non-increasing across looks', () => {
    const random = createRandom(7);
    let state = createCountRatioTest(options);
    let previous = 1;
    for (let look = 0; look < 30; look++) {
      state = observeCounts(state, {
        canary: { events: binomial(random, 100, 0.03), trials: 100 },
        baseline: { events: binomial(random, 100, 0.02), trials: 100 },
      });
      const { alwaysValidP } = countRatioEvidence(state);
      expect(alwaysValidP).toBeLessThanOrEqual(previous);
      previous = alwaysValidP;
    }
  });
});
