import fc from 'fast-check';
import { exactUCounts, mannWhitneyU } from './mann-whitney';

/** Every way to choose which of the pooled ranks 1..m+n belong to the canary. */
function* canaryRankSets(
  m: number,
  n: number,
  from = 1,
  chosen: number[] = [],
): Generator<number[]> {
  if (chosen.length === m) {
    yield chosen;
    return;
  }
  for (let rank = from; rank <= m + n; rank++)
    yield* canaryRankSets(m, n, rank + 1, [...chosen, rank]);
}

/** Two-sided permutation p-value by brute force: share of rankings at least as far from mn/2. */
function enumeratedP(u: number, m: number, n: number): number {
  let extreme = 0;
  let total = 0;
  for (const ranks of canaryRankSets(m, n)) {
    const permutedU = ranks.reduce((sum, r) => sum + r, 0) - (m * (m + 1)) / 2;
    total++;
    if (Math.abs(permutedU - (m * n) / 2) >= Math.abs(u - (m * n) / 2) - 1e-9) extreme++;
  }
  return extreme / total;
}

const distinctSamples = (maxLength: number) =>
  fc
    .uniqueArray(fc.integer({ min: -1000, max: 1000 }), { minLength: 2, maxLength: 2 * maxLength })
    .chain((values) =>
      fc.integer({ min: 1, max: Math.min(maxLength, values.length - 1) }).map((split) => ({
        baseline: values.slice(0, split),
        canary: values.slice(split, split + maxLength),
      })),
    );

describe('mannWhitneyU by hand', () => {
  it('all canary values above the baseline: U = mn, exact p = 2 / C(6,3)', () => {
    expect(mannWhitneyU([1, 2, 3], [4, 5, 6])).toEqual({
      u: 9,
      pValue: 0.1,
      method: 'exact',
      z: 0,
    });
  });

  it('all canary values below: U = 0 with the same p (C(5,2) = 10 rankings)', () => {
    expect(mannWhitneyU([3, 4, 5], [1, 2])).toMatchObject({ u: 0, pValue: 0.2, method: 'exact' });
  });

  it('ties: mid-ranks, tie-corrected variance and continuity correction', () => {
    // Pooled ranks: 1 | 2,2,2 → 3 | 3,3,3 → 6 | 4 → 8. Canary rank sum 3+6+6+8 = 23, U = 23 − 10 = 13.
    // σ² = (16/12)·(9 − (24 + 24)/56) = 10.857142857…, z = (13 − 8 − 0.5)/σ = 1.3656982…
    const result = mannWhitneyU([1, 2, 2, 3], [2, 3, 3, 4]);
    expect(result.method).toBe('normal');
    expect(result.u).toBe(13);
    expect(result.z).toBeCloseTo(4.5 / Math.sqrt((16 / 12) * (9 - 48 / 56)), 12);
    expect(result.pValue).toBeCloseTo(0.1720337089218229, 12); // scipy mannwhitneyu, asymptotic
  });

  it('uses the normal approximation above ten values even without ties', () => {
    const baseline = [0.1, 0.4, 0.9, 1.3, 2.2, 2.8, 3.1, 3.7, 4.4, 5.0, 5.1];
    const canary = [0.3, 1.0, 1.5, 2.4, 3.9, 4.9, 6.0];
    expect(mannWhitneyU(baseline, canary)).toMatchObject({ u: 41, method: 'normal' });
    expect(mannWhitneyU(baseline, canary).pValue).toBeCloseTo(0.8562628961416724, 12); // scipy
  });

  it('gives p = 1 when every value is tied', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5])).toMatchObject({ u: 3, pValue: 1 });
  });

  it('rejects empty samples and non-finite values, naming the sample', () => {
    expect(() => mannWhitneyU([], [1])).toThrow('baseline sample is empty');
    expect(() => mannWhitneyU([1], [NaN])).toThrow('canary sample contains a value');
  });
});

describe('exact distribution of U', () => {
  it('counts every ranking once: Σ counts = C(m+n, m)', () => {
    const sum = (counts: Float64Array) => counts.reduce((a, b) => a + b, 0);
    expect(sum(exactUCounts(10, 10))).toBe(184756);
    expect(sum(exactUCounts(3, 7))).toBe(120);
  });

  it('matches small cases worked out by hand: m = 2, n = 2 gives 1,1,2,1,1', () => {
    expect(Array.from(exactUCounts(2, 2))).toEqual([1, 1, 2, 1, 1]);
  });

  it('equals brute-force enumeration of all rankings for every small size', () => {
    for (let m = 1; m <= 6; m++) {
      for (let n = 1; n <= 6; n++) {
        const enumerated = new Array(m * n + 1).fill(0);
        for (const ranks of canaryRankSets(m, n)) {
          enumerated[ranks.reduce((s, r) => s + r, 0) - (m * (m + 1)) / 2]++;
        }
        expect(Array.from(exactUCounts(m, n))).toEqual(enumerated);
      }
    }
  });

  it('gives the exact p of brute-force permutation enumeration (samples up to 10, no ties)', () => {
    fc.assert(
      fc.property(distinctSamples(7), ({ baseline, canary }) => {
        const result = mannWhitneyU(baseline, canary);
        expect(result.method).toBe('exact');
        expect(result.pValue).toBeCloseTo(
          enumeratedP(result.u, canary.length, baseline.length),
          12,
        );
      }),
      { numRuns: 150 },
    );
  });
});

describe('mannWhitneyU properties', () => {
  const samples = fc.record({
    baseline: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 30 }),
    canary: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 30 }),
  });

  it('p is in [0, 1] and U in [0, m·n]', () => {
    fc.assert(
      fc.property(samples, ({ baseline, canary }) => {
        const { u, pValue } = mannWhitneyU(baseline, canary);
        expect(pValue).toBeGreaterThanOrEqual(0);
        expect(pValue).toBeLessThanOrEqual(1);
        expect(u).toBeGreaterThanOrEqual(0);
        expect(u).toBeLessThanOrEqual(baseline.length * canary.length);
      }),
    );
  });

  it('is symmetric: swapping the samples keeps p and turns U into m·n − U', () => {
    fc.assert(
      fc.property(samples, ({ baseline, canary }) => {
        const forward = mannWhitneyU(baseline, canary);
        const backward = mannWhitneyU(canary, baseline);
        expect(backward.pValue).toBeCloseTo(forward.pValue, 12);
        expect(backward.u).toBe(baseline.length * canary.length - forward.u);
      }),
    );
  });

  it('is invariant under a common shift and any increasing transform', () => {
    fc.assert(
      fc.property(samples, fc.integer({ min: -1000, max: 1000 }), ({ baseline, canary }, shift) => {
        const original = mannWhitneyU(baseline, canary);
        expect(
          mannWhitneyU(
            baseline.map((v) => v + shift),
            canary.map((v) => v + shift),
          ),
        ).toEqual(original);
        expect(mannWhitneyU(baseline.map(Math.exp), canary.map(Math.exp))).toEqual(original);
      }),
    );
  });

  it('reaches small p only when the canary clearly sits apart', () => {
    const baseline = Array.from({ length: 40 }, (_, i) => i);
    expect(
      mannWhitneyU(
        baseline,
        baseline.map((v) => v + 100),
      ).pValue,
    ).toBeLessThan(1e-10);
    expect(mannWhitneyU(baseline, baseline).pValue).toBe(1);
  });
});
