import { createRandom } from './random';
import { fisherExactOneSided, logGamma, mannWhitneyOneSided } from './fixed-horizon';
import { permutationP } from './testing';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const uOf = (b: number[], c: number[]) =>
  sum(c.map((x) => sum(b.map((y) => (x > y ? 1 : x === y ? 0.5 : 0)))));

describe('logGamma', () => {
  it('is ln((n-1)!) at the integers and ln √π at ½', () => {
    let logFactorial = 0;
    for (let n = 1; n <= 170; n++) {
      expect(logGamma(n)).toBeCloseTo(logFactorial, 9);
      logFactorial += Math.log(n);
    }
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
  });
});

describe("Fisher's exact test, one-sided", () => {
  it('matches the permutation test on every small table', () => {
    let checked = 0;
    for (let nb = 1; nb <= 5; nb++)
      for (let nc = 1; nc <= 5; nc++)
        for (let eb = 0; eb <= nb; eb++)
          for (let ec = 0; ec <= nc; ec++) {
            const b = [...Array(eb).fill(1), ...Array(nb - eb).fill(0)] as number[];
            const c = [...Array(ec).fill(1), ...Array(nc - ec).fill(0)] as number[];
            for (const side of ['greater', 'less'] as const) {
              const reference = permutationP(b, c, (_, cc) => sum(cc), side);
              const { pValue } = fisherExactOneSided(
                { events: eb, trials: nb },
                { events: ec, trials: nc },
                side,
              );
              expect(pValue).toBeCloseTo(reference, 12);
              checked++;
            }
          }
    expect(checked).toBe(2 * (2 + 3 + 4 + 5 + 6) ** 2); // Σ over nb, nc of (nb+1)(nc+1), × 2 sides
  });

  it('is exact for large counts too: the two tails overlap by exactly the observed table', () => {
    const baseline = { events: 30, trials: 3000 };
    const canary = { events: 150, trials: 3000 };
    const greater = fisherExactOneSided(baseline, canary, 'greater').pValue;
    expect(greater).toBeLessThan(1e-20);
    expect(fisherExactOneSided(baseline, canary, 'less').pValue).toBeCloseTo(1, 10);
    // P(X ≥ x) + P(X ≤ x) = 1 + P(X = x): at a central table both tails are near ½.
    const middle = { events: 40, trials: 3000 };
    const up = fisherExactOneSided(middle, middle, 'greater').pValue;
    const down = fisherExactOneSided(middle, middle, 'less').pValue;
    expect(up).toBeCloseTo(down, 12);
    expect(up + down).toBeGreaterThan(1);
    expect(up + down).toBeLessThan(1.2);
  });
});

describe('Mann-Whitney test, one-sided', () => {
  it('matches the enumeration of every ranking for tiny samples without ties', () => {
    const random = createRandom(7);
    for (let trial = 0; trial < 60; trial++) {
      const m = 1 + (trial % 5);
      const n = 1 + ((trial * 7) % 6);
      const values = Array.from({ length: m + n }, () => random.normal());
      const canary = values.slice(0, m).map((v) => v + (trial % 3));
      const baseline = values.slice(m);
      for (const side of ['greater', 'less'] as const) {
        const result = mannWhitneyOneSided(baseline, canary, side);
        expect(result.method).toBe('exact');
        expect(result.u).toBeCloseTo(uOf(baseline, canary), 12);
        expect(result.pValue).toBeCloseTo(permutationP(baseline, canary, uOf, side), 12);
      }
    }
  });

  it('reports the smallest p-value the sample sizes allow', () => {
    const result = mannWhitneyOneSided([1, 2, 3], [4, 5, 6], 'greater');
    expect(result.pValue).toBeCloseTo(1 / 20, 12);
    expect(result.smallestPossibleP).toBeCloseTo(1 / 20, 12);
  });

  it('stays within a few hundredths of the permutation test with heavy ties at 8 + 8 values', () => {
    const random = createRandom(11);
    for (let trial = 0; trial < 5; trial++) {
      const draw = (shift: number) =>
        Array.from({ length: 8 }, () => Math.round(random.normal() + shift));
      const baseline = draw(0);
      const canary = draw(0.8);
      const result = mannWhitneyOneSided(baseline, canary, 'greater');
      expect(result.method).toBe('normal');
      expect(Math.abs(result.pValue - permutationP(baseline, canary, uOf, 'greater'))).toBeLessThan(
        0.05,
      );
    }
  });

  it('gives p = 1 when every value is tied', () => {
    expect(mannWhitneyOneSided([0, 0, 0], [0, 0, 0, 0], 'greater').pValue).toBe(1);
  });
});
