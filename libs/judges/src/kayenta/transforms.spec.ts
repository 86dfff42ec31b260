import { metricSettings } from './kayenta-settings';
import { removeOutliers, transformSeries } from './transforms';

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('kayenta transforms', () => {
  it('removes a point beyond the widened fences and keeps ordinary data', () => {
    // 1..20 and 1000: Q1 = 6, Q3 = 16, fence 16 + 3·10 = 46; the 99th percentile is
    // 20 + 0.8·(1000 − 20) = 804, so the upper fence is 804 and 1000 goes.
    expect(removeOutliers([...range(20), 1000], 3)).toEqual(range(20));
    expect(removeOutliers(range(20), 3)).toEqual(range(20));
  });

  it('handles NaN first, then outliers', () => {
    const settings = {
      ...metricSettings(
        { scoreThresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: {} },
        'm',
      ),
    };
    expect(transformSeries([1, NaN, 2], settings)).toEqual([1, 2]);
    expect(transformSeries([1, NaN, 2], { ...settings, nanStrategy: 'replace' })).toEqual([
      1, 0, 2,
    ]);
    expect(
      transformSeries([...range(20), NaN, 1000], { ...settings, outlierStrategy: 'remove' }),
    ).toEqual(range(20));
  });

  it('resolves documented defaults per effect measure', () => {
    const base = { scoreThresholds: { pass: 95, marginal: 75 }, groupWeights: {}, metrics: {} };
    expect(metricSettings(base, 'm')).toEqual({
      groups: ['m'],
      nanStrategy: 'remove',
      outlierStrategy: 'keep',
      outlierFactor: 3,
      mustHaveData: false,
      muted: false,
      effectSize: {
        measure: 'meanRatio',
        allowedIncrease: 1,
        allowedDecrease: 1,
        criticalIncrease: 1,
        criticalDecrease: 1,
      },
    });
    const cles = metricSettings(
      { ...base, metrics: { m: { effectSize: { measure: 'cles' } } } },
      'm',
    );
    expect(cles.effectSize).toMatchObject({ allowedIncrease: 0.5, criticalDecrease: 0.5 });
  });
});
