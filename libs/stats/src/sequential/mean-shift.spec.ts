import { createRandom } from '../random';
import { addValues, createMeanShiftTest, meanShiftEvidence, observeValues } from './mean-shift';

const options = { alpha: 0.05, beta: 0.05, minimumEffect: 0.5, side: 'increase' as const };

function simulate(seed: number, shift: number, looks: number, perLook: number) {
  const random = createRandom(seed);
  let state = createMeanShiftTest(options);
  const draw = (offset: number) => Array.from({ length: perLook }, () => random.normal() + offset);
  for (let look = 1; look <= looks; look++) {
    state = observeValues(state, { canary: draw(shift), baseline: draw(0) });
    const { decision } = meanShiftEvidence(state);
    if (decision !== 'continue') return { decision, look };
  }
  return { decision: 'continue' as const, look: looks };
}

describe('mean-shift sequential test by hand', () => {
  it('baseline [1,2,3] against canary [2,3,4]', () => {
    // d = 1, V = 1/3 + 1/3 = 2/3, log LR(θ) = 1.5·(θ − θ²/2) at θ = 0.5·{1, 2, 3, 4}:
    // 0.5 → 0.5625, 1 → 0.75, 1.5 → 0.5625, 2 → 0; e-value = (2·e^0.5625 + e^0.75 + 1)/4
    const state = observeValues(createMeanShiftTest({ ...options, minimumSamples: 3 }), {
      baseline: [1, 2, 3],
      canary: [2, 3, 4],
    });
    const expected = (2 * Math.exp(0.5625) + Math.exp(0.75) + 1) / 4;
    expect(meanShiftEvidence(state)).toMatchObject({ decision: 'continue', estimate: 1 });
    expect(meanShiftEvidence(state).eValue).toBeCloseTo(expected, 12);
  });

  it('merges intervals exactly like one batch (Welford)', () => {
    const values = [2, 4, 4, 4, 5, 5, 7, 9];
    const batched = addValues({ count: 0, mean: 0, squares: 0 }, values);
    const merged = addValues(
      addValues({ count: 0, mean: 0, squares: 0 }, values.slice(0, 3)),
      values.slice(3),
    );
    expect(merged.count).toBe(batched.count);
    expect(merged.mean).toBeCloseTo(batched.mean, 12);
    expect(merged.squares).toBeCloseTo(batched.squares, 12);
    expect(batched.mean).toBe(5);
    expect(batched.squares / 7).toBeCloseTo(32 / 7, 12); // 9+1+1+1+0+0+4+16 over n − 1
  });

  it('waits for minimumSamples in each group before deciding', () => {
    const state = observeValues(createMeanShiftTest({ ...options, minimumSamples: 30 }), {
      baseline: Array.from({ length: 29 }, () => 0),
      canary: Array.from({ length: 100 }, () => 10),
    });
    expect(meanShiftEvidence(state)).toMatchObject({
      decision: 'continue',
      eValue: 1,
      estimate: 10,
    });
  });

  it('treats a difference between constant samples as certain', () => {
    const constant = (value: number) => Array.from({ length: 40 }, () => value);
    const shifted = observeValues(createMeanShiftTest(options), {
      baseline: constant(1),
      canary: constant(2),
    });
    const same = observeValues(createMeanShiftTest(options), {
      baseline: constant(1),
      canary: constant(1),
    });
    expect(meanShiftEvidence(shifted).decision).toBe('regression');
    expect(meanShiftEvidence(same).decision).toBe('no-regression');
  });
});

describe('mean-shift sequential test under continuous monitoring', () => {
  it('keeps false regressions below alpha over 50 looks', () => {
    const runs = Array.from({ length: 400 }, (_, i) => simulate(100 + i, 0, 50, 20));
    expect(
      runs.filter((r) => r.decision === 'regression').length / runs.length,
    ).toBeLessThanOrEqual(options.alpha);
  });

  it('catches a shift of the minimum effect and passes no shift', () => {
    const shifted = Array.from({ length: 100 }, (_, i) => simulate(2000 + i, 0.5, 50, 20));
    const healthy = Array.from({ length: 100 }, (_, i) => simulate(3000 + i, 0, 50, 20));
    expect(shifted.filter((r) => r.decision === 'regression').length).toBeGreaterThan(90);
    expect(healthy.filter((r) => r.decision === 'no-regression').length).toBeGreaterThan(90);
  });

  it('ignores an improvement when only an increase is bad', () => {
    const runs = Array.from({ length: 50 }, (_, i) => simulate(4000 + i, -1, 50, 20));
    expect(runs.every((r) => r.decision === 'no-regression')).toBe(true);
  });
});
