import { alphaShares } from './alpha';
import { resolveKind } from './metric-tests';

describe('alphaShares', () => {
  it('shares α in proportion to weight times factor, adding up to α', () => {
    const shares = alphaShares([{ weight: 1 }, {}, { weight: 2 }], 0.01, [4, 1, 1]);
    expect(shares[0]).toBeCloseTo(0.01 * (4 / 7), 15);
    expect(shares[1]).toBeCloseTo(0.01 * (1 / 7), 15);
    expect(shares[2]).toBeCloseTo(0.01 * (2 / 7), 15);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(0.01, 15);
  });

  it('without factors, by weight alone', () => {
    expect(alphaShares([{ weight: 3 }, { weight: 1 }], 0.01)).toEqual([0.0075, 0.0025]);
  });

  it('gives weight 0 no share (a tiny positive number, so its test never FAILs)', () => {
    const [zero, one] = alphaShares([{ weight: 0 }, { weight: 1 }], 0.01, [4, 1]);
    expect(zero).toBe(Number.MIN_VALUE);
    expect(one).toBe(0.01);
  });

  it('refuses a factor that is not a positive number', () => {
    expect(() => alphaShares([{}, {}], 0.01, [0, 1])).toThrow(RangeError);
    expect(() => alphaShares([{}], 0.01, [Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe('resolveKind', () => {
  it('takes the setting when given, else whether the values are all 0 or 1', () => {
    expect(resolveKind('continuous', [0, 1])).toBe('continuous');
    expect(resolveKind('proportion', [])).toBe('proportion');
    expect(resolveKind('auto', [0, 1, 1])).toBe('proportion');
    expect(resolveKind('auto', [0, 1, 0.5])).toBe('continuous');
    expect(resolveKind('auto', [])).toBeNull();
  });
});
