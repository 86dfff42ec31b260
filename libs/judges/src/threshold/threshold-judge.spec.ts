import type { MetricInput } from '../types';
import { ThresholdJudge } from './threshold-judge';

const metric = (name: string, canary: number[], baseline: number[] = []): MetricInput => ({
  name,
  baseline,
  canary,
  direction: 'increase',
});
const latencies = Array.from({ length: 100 }, (_, i) => i + 1); // p99 = 99.01, mean 50.5

describe('threshold judge', () => {
  const judge = new ThresholdJudge({
    conditions: {
      latency: { aggregate: 'p99', max: 120 },
      'error-rate': { max: 0.05 },
      throughput: { aggregate: 'mean', min: 40, minSamples: 10 },
    },
  });

  it('passes when every condition holds on the canary, ignoring the baseline', () => {
    const verdict = judge.judge({
      metrics: [
        metric('latency', latencies, [1000, 2000]),
        metric('error-rate', [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
      ],
    });
    expect(verdict).toMatchObject({
      verdict: 'PASS',
      score: 100,
      reasons: ['every condition holds on the canary'],
    });
    expect(verdict.metrics[0].reason).toBe('canary p99 99 is within bounds (≤ 120)');
  });

  it('fails on a value above max (High) or below min (Low)', () => {
    const verdict = judge.judge({
      metrics: [
        metric(
          'latency',
          latencies.map((v) => v * 2),
        ),
        metric(
          'throughput',
          latencies.map((v) => v / 10),
        ),
      ],
    });
    expect(verdict).toMatchObject({
      verdict: 'FAIL',
      score: 0,
      reasons: ['condition violated: latency, throughput'],
    });
    expect(verdict.metrics.map((m) => [m.classification, m.reason])).toEqual([
      ['High', 'canary p99 198 is above the maximum 120'],
      ['Low', 'canary mean 5.05 is below the minimum 40'],
    ]);
  });

  it('uses the mean of 0/1 flags as a rate by default', () => {
    const verdict = judge.judge({
      metrics: [metric('error-rate', [1, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    });
    expect(verdict.metrics[0]).toMatchObject({
      classification: 'High',
      reason: 'canary mean 0.1 is above the maximum 0.05',
    });
  });

  it('is NODATA without a condition or with too few canary values, never PASS', () => {
    const verdict = judge.judge({
      metrics: [
        metric('latency', latencies),
        metric('unknown', latencies),
        metric('throughput', [50, 60]),
      ],
    });
    expect(verdict.verdict).toBe('NODATA');
    expect(verdict.metrics.map((m) => m.reason)).toEqual([
      'canary p99 99 is within bounds (≤ 120)',
      'no threshold configured for this metric',
      '2 canary values, 10 needed',
    ]);
    expect(verdict.score).toBeCloseTo(33.33, 2);
  });

  it('reports the rank statistics when a baseline is given', () => {
    const [result] = judge.judge({ metrics: [metric('latency', [3, 4], [1, 2])] }).metrics;
    expect(result).toMatchObject({ u: 4, pValue: 1 / 3, effect: 3.5 / 1.5 });
  });
});
