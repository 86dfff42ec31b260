import fc from 'fast-check';
import { median, sortedAscending } from './descriptive';
import { correctedZ } from './mann-whitney';
import { normalQuantile } from './normal';
import { hodgesLehmann } from './hodges-lehmann';
import { kthPairwiseDifference } from './pairwise-differences';

const differences = (baseline: number[], canary: number[]) =>
  Array.from(sortedAscending(canary.flatMap((c) => baseline.map((b) => c - b))));

/**
 * The textbook (R / Kayenta) route, as a reference: bisection for the shift d at which the
 * continuity-corrected z of U(canary − d, baseline), with the ties present at d, crosses `target`.
 */
function rootOfCorrectedZ(baseline: number[], canary: number[], target: number): number {
  const zAt = (d: number) => {
    const shifted = canary.map((c) => c - d);
    let u = 0;
    for (const c of shifted) for (const b of baseline) u += c > b ? 1 : c === b ? 0.5 : 0;
    const counts = new Map<number, number>();
    for (const v of [...shifted, ...baseline]) counts.set(v, (counts.get(v) ?? 0) + 1);
    let tieTerm = 0;
    for (const t of counts.values()) tieTerm += t ** 3 - t;
    return correctedZ(u, canary.length, baseline.length, tieTerm) - target;
  };
  const all = differences(baseline, canary);
  let [low, high] = [all[0], all[all.length - 1]];
  if (zAt(low) <= 0) return low;
  if (zAt(high) >= 0) return high;
  for (let i = 0; i < 200; i++) {
    const mid = (low + high) / 2;
    if (zAt(mid) > 0) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

describe('hodgesLehmann by hand', () => {
  it('[1,2,3] vs [4,5,6]: differences 1,2,2,3,3,3,4,4,5; median 3; 98% interval [1, 5]', () => {
    // σ = √(9·7/12) = 2.2913, z₀.₉₉ = 2.3263: the threshold 4.5 + 0.5 + 5.33 exceeds 9 pairs,
    // so both ends clamp to the extreme differences, as Kayenta's root finder does.
    expect(hodgesLehmann([1, 2, 3], [4, 5, 6], 0.98)).toEqual({
      estimate: 3,
      lower: 1,
      upper: 5,
      confLevel: 0.98,
    });
  });

  it('averages the two middle differences when m·n is even', () => {
    // canary − baseline: 10−1 = 9, 10−3 = 7 → median of {7, 9} = 8
    expect(hodgesLehmann([1, 3], [10]).estimate).toBe(8);
  });

  it('gives the exact shift for constant samples, where Kayenta needed added noise', () => {
    expect(hodgesLehmann([2, 2, 2, 2, 2], [7, 7, 7, 7, 7], 0.98)).toMatchObject({
      estimate: 5,
      lower: 5,
      upper: 5,
    });
  });

  it('narrows around the true shift with more data', () => {
    const baseline = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 10);
    const canary = baseline.map((v, i) => v + 3 + Math.cos(i * 7));
    const { estimate, lower, upper } = hodgesLehmann(baseline, canary, 0.98);
    expect(estimate).toBeGreaterThan(2);
    expect(estimate).toBeLessThan(4);
    expect(lower).toBeLessThan(estimate);
    expect(upper).toBeGreaterThan(estimate);
    expect(upper - lower).toBeLessThan(5);
  });
});

describe('hodgesLehmann properties', () => {
  const samples = fc.record({
    baseline: fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 25 }),
    canary: fc.array(fc.integer({ min: -40, max: 40 }), { minLength: 1, maxLength: 25 }),
  });

  it('the estimate is the median of all pairwise differences (brute force)', () => {
    fc.assert(
      fc.property(samples, ({ baseline, canary }) => {
        expect(hodgesLehmann(baseline, canary).estimate).toBe(
          median(differences(baseline, canary)),
        );
      }),
    );
  });

  it('the interval ends are the roots Kayenta’s (R’s) root finding would find', () => {
    fc.assert(
      fc.property(samples, fc.constantFrom(0.9, 0.95, 0.98), ({ baseline, canary }, level) => {
        const z = normalQuantile(1 - (1 - level) / 2);
        const { lower, upper } = hodgesLehmann(baseline, canary, level);
        expect(lower).toBeCloseTo(rootOfCorrectedZ(baseline, canary, z), 6);
        expect(upper).toBeCloseTo(rootOfCorrectedZ(baseline, canary, -z), 6);
      }),
      { numRuns: 60 },
    );
  });

  it('is shift equivariant: moving the canary by s moves estimate and interval by s', () => {
    fc.assert(
      fc.property(samples, fc.integer({ min: -100, max: 100 }), ({ baseline, canary }, s) => {
        const before = hodgesLehmann(baseline, canary);
        const after = hodgesLehmann(
          baseline,
          canary.map((v) => v + s),
        );
        expect(after.estimate).toBe(before.estimate + s);
        expect(after.lower).toBe(before.lower + s);
        expect(after.upper).toBe(before.upper + s);
      }),
    );
  });

  it('is antisymmetric: swapping the samples negates estimate and interval', () => {
    fc.assert(
      fc.property(samples, ({ baseline, canary }) => {
        const forward = hodgesLehmann(baseline, canary);
        const backward = hodgesLehmann(canary, baseline);
        // `+ 0` folds −0 into 0: the sign of a zero is not a statistical difference.
        expect(backward.estimate + 0).toBe(-forward.estimate + 0);
        expect(backward.lower + 0).toBe(-forward.upper + 0);
        expect(backward.upper + 0).toBe(-forward.lower + 0);
      }),
    );
  });

  it('orders lower ≤ estimate ≤ upper, wider at higher confidence', () => {
    fc.assert(
      fc.property(samples, ({ baseline, canary }) => {
        const narrow = hodgesLehmann(baseline, canary, 0.8);
        const wide = hodgesLehmann(baseline, canary, 0.99);
        expect(narrow.lower).toBeLessThanOrEqual(narrow.estimate);
        expect(narrow.estimate).toBeLessThanOrEqual(narrow.upper);
        expect(wide.lower).toBeLessThanOrEqual(narrow.lower);
        expect(wide.upper).toBeGreaterThanOrEqual(narrow.upper);
      }),
    );
  });
});

describe('kthPairwiseDifference', () => {
  it('equals sorting all differences, for every k', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 1, maxLength: 15 }),
        fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 15 }),
        (baseline, canary) => {
          const sorted = differences(baseline, canary);
          sorted.forEach((value, index) => {
            expect(kthPairwiseDifference(baseline, canary, index + 1)).toBe(value);
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('handles large samples without building the m·n differences', () => {
    const baseline = Array.from({ length: 20000 }, (_, i) => (i * 7919) % 10007);
    const canary = Array.from({ length: 20000 }, (_, i) => ((i * 104729) % 10009) + 50);
    const median = kthPairwiseDifference(baseline, canary, 200_000_000);
    expect(median).toBeGreaterThan(0);
    expect(median).toBeLessThan(100);
  });

  it('rejects k outside 1..m·n', () => {
    expect(() => kthPairwiseDifference([1], [2], 2)).toThrow('k must be an integer in 1..1');
  });
});
