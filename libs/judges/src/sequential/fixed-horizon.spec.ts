import { createRandom } from '@rollgate/stats';
import type { MetricInput } from '../types';
import { SequentialJudge } from './sequential-judge';
import { intervalRates, permutationP } from '@rollgate/stats/testing';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const metric = (baseline: number[], canary: number[], name = 'm'): MetricInput => ({
  name,
  baseline,
  canary,
  direction: 'increase',
});

describe('sequential judge, one look at a complete window (fixed horizon)', () => {
  const judge = new SequentialJudge({ alpha: 0.05 });

  it('matches the exact permutation test on every small table of 0/1 values', () => {
    let compared = 0;
    for (let n = 2; n <= 6; n++)
      for (let eb = 0; eb <= n; eb++)
        for (let ec = 0; ec <= n; ec++) {
          const b = [...Array(eb).fill(1), ...Array(n - eb).fill(0)] as number[];
          const c = [...Array(ec).fill(1), ...Array(n - ec).fill(0)] as number[];
          const reference = permutationP(b, c, (_, cc) => sum(cc));
          const verdict = judge.judgeWindow({ metrics: [metric(b, c)] });
          expect(verdict.metrics[0].classification).toBe(reference <= 0.05 ? 'High' : 'Pass');
          expect(verdict.verdict).toBe(reference <= 0.05 ? 'FAIL' : 'PASS');
          compared++;
        }
    expect(compared).toBe(9 + 16 + 25 + 36 + 49);
  });

  it('matches the exact Mann-Whitney enumeration, beyond half the minimum regression', () => {
    // Linear scale, minimum regression 1: the canary counts as higher only beyond +0.5.
    const linear = new SequentialJudge({
      alpha: 0.05,
      metrics: { m: { scale: 'linear', minimumRegression: 1 } },
    });
    const random = createRandom(5);
    let failed = 0;
    for (let trial = 0; trial < 80; trial++) {
      const m = 3 + (trial % 4);
      const baseline = Array.from({ length: m }, () => random.normal());
      const canary = Array.from({ length: m }, () => random.normal() + (trial % 5) * 0.6);
      // Reference: permutation p of U (pairs canary > baseline) after moving the canary down by
      // the margin.
      const u = (b: number[], c: number[]) => sum(c.map((x) => sum(b.map((y) => (x > y ? 1 : 0)))));
      const shifted = canary.map((x) => x - 0.5);
      const reference = permutationP(baseline, shifted, u);
      const verdict = linear.judgeWindow({ metrics: [metric(baseline, canary)] });
      expect(verdict.metrics[0].classification).toBe(reference <= 0.05 ? 'High' : 'Pass');
      if (reference <= 0.05) failed++;
    }
    expect(failed).toBeGreaterThan(10); // the comparison covered both outcomes
    expect(failed).toBeLessThan(70);
  });

  it('fails per-interval error rates (30 intervals of 100 requests, 1% vs 5%) every time', () => {
    const random = createRandom(16);
    const rates = (p: number) => intervalRates(random, p);
    const defaults = new SequentialJudge();
    for (let run = 0; run < 200; run++) {
      const verdict = defaults.judgeWindow({
        metrics: [{ ...metric(rates(0.01), rates(0.05), 'error-rate'), critical: true }],
      });
      expect(verdict.verdict).toBe('FAIL');
    }
  });

  it('names the test in the reasons: counts for proportions, Mann-Whitney otherwise', () => {
    const verdict = new SequentialJudge().judgeWindow({
      metrics: [
        metric([0, 0, 0, 1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], 'errors'),
        metric([10, 11, 12, 13], [10.5, 11.5, 12.5, 13.5], 'latency'),
      ],
    });
    expect(verdict.verdict).toBe('PASS');
    expect(verdict.reasons).toEqual([
      "no significant regression at the window's end (fixed-horizon test, one look)",
    ]);
    expect(verdict.metrics[0].reason).toBe(
      "no significant regression: two-proportion test on the counts, one-sided (canary higher; Fisher's exact): canary 10% (1 of 10) vs baseline 10% (1 of 10), p 0.763 > its share of α = 0.008",
    );
    expect(verdict.metrics[1].reason).toMatch(
      /^no significant regression: Mann-Whitney test, one-sided \(canary higher by more than \+4\.88%, half the minimum regression; exact\): U \d+ of 16 pairs, p [\d.]+ > its share of α = 0\.002; too few values: 8 allow p ≥ 0\.0143$/,
    );
  });

  it('splits α between both sides when either direction is bad, and reports Low', () => {
    const verdict = new SequentialJudge().judgeWindow({
      metrics: [
        {
          name: 'throughput',
          baseline: Array.from({ length: 40 }, (_, i) => 100 + (i % 7)),
          canary: Array.from({ length: 40 }, (_, i) => 60 + (i % 7)),
          direction: 'either',
        },
      ],
    });
    expect(verdict.metrics[0].classification).toBe('Low');
    expect(verdict.metrics[0].reason).toMatch(/canary lower by more than −4\.65%.*α = 0\.005$/);
  });

  it('rejects a value other than 0 or 1 in a proportion metric, as the sequential looks do', () => {
    const judge = new SequentialJudge({ metrics: { m: { kind: 'proportion' } } });
    expect(() => judge.judgeWindow({ metrics: [metric([0, 1], [0.5, 1])] })).toThrow(
      'metric "m": a proportion metric takes only 0 and 1 values',
    );
  });

  it('is NODATA, never PASS, when a group has no data', () => {
    const verdict = new SequentialJudge().judgeWindow({ metrics: [metric([1, 2, 3], [NaN])] });
    expect(verdict.verdict).toBe('NODATA');
    expect(verdict.metrics[0]).toMatchObject({
      classification: 'NoData',
      reason: 'no canary data',
    });
  });

  it('does not flag a difference far below the minimum regression, however much data', () => {
    const random = createRandom(3);
    const latencies = (factor: number) =>
      Array.from({ length: 20000 }, () => 100 * factor * Math.exp(0.5 * random.normal()));
    const judged = (factor: number) =>
      new SequentialJudge().judgeWindow({ metrics: [metric(latencies(1), latencies(factor))] })
        .verdict;
    expect(judged(1.02)).toBe('PASS'); // +2%: far below the +10% minimum
    expect(judged(1.1)).toBe('FAIL'); // +10%: beyond half of it
  });
});
