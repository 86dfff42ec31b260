import { mean, median, quantile, sampleVariance, sortedAscending } from './descriptive';

describe('descriptive statistics', () => {
  it('computes mean, variance and median by hand', () => {
    expect(mean([2, 4, 9])).toBe(5);
    expect(sampleVariance([2, 4, 9])).toBe(13); // (9 + 1 + 16) / 2
    expect(median([9, 2, 4])).toBe(4);
    expect(median([1, 2, 3, 10])).toBe(2.5);
  });

  it('interpolates quantiles like R type 7', () => {
    // positions (n − 1)·q: 0.25·4 = 1 → 20; 0.9·4 = 3.6 → 40 + 0.6·(50 − 40)
    expect(quantile([50, 10, 40, 20, 30], 0.25)).toBe(20);
    expect(quantile([50, 10, 40, 20, 30], 0.9)).toBeCloseTo(46, 12);
  });

  it('returns NaN for empty input and never sorts the caller’s array', () => {
    const values = [3, 1, 2];
    expect(Array.from(sortedAscending(values))).toEqual([1, 2, 3]);
    expect(values).toEqual([3, 1, 2]);
    expect(mean([])).toBeNaN();
    expect(quantile([], 0.5)).toBeNaN();
    expect(sampleVariance([1])).toBeNaN();
  });
});
