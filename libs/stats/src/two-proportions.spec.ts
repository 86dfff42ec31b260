import fc from 'fast-check';
import { twoProportionTest } from './two-proportions';

describe('twoProportionTest', () => {
  it('10/100 against 20/100 by hand', () => {
    // pooled 0.15; se = √(0.15·0.85·(1/100 + 1/100)) = 0.0504975; z = 0.1 / se = 1.980295
    const result = twoProportionTest({ events: 10, trials: 100 }, { events: 20, trials: 100 });
    expect(result.difference).toBeCloseTo(0.1, 15);
    expect(result.z).toBeCloseTo(1.9802950859533488, 12);
    expect(result.pValue).toBeCloseTo(0.04767038065616141, 12); // 2·scipy norm.sf(z)
  });

  it('no variation (no errors anywhere) is no evidence', () => {
    expect(twoProportionTest({ events: 0, trials: 50 }, { events: 0, trials: 80 })).toMatchObject({
      z: 0,
      pValue: 1,
    });
  });

  it('is symmetric and keeps p in [0, 1]', () => {
    const counts = fc
      .integer({ min: 1, max: 500 })
      .chain((trials) =>
        fc.record({ trials: fc.constant(trials), events: fc.nat({ max: trials }) }),
      );
    fc.assert(
      fc.property(counts, counts, (a, b) => {
        const forward = twoProportionTest(a, b);
        const backward = twoProportionTest(b, a);
        expect(forward.pValue).toBeGreaterThanOrEqual(0);
        expect(forward.pValue).toBeLessThanOrEqual(1);
        expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
        expect(backward.z).toBeCloseTo(-forward.z, 12);
      }),
    );
  });

  it('rejects impossible counts', () => {
    expect(() => twoProportionTest({ events: 5, trials: 3 }, { events: 0, trials: 1 })).toThrow(
      'baseline has more events than trials',
    );
    expect(() => twoProportionTest({ events: 0, trials: 0 }, { events: 0, trials: 1 })).toThrow(
      'baseline counts must be integers',
    );
  });
});
