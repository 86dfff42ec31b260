import { hodgesLehmann } from '@rollgate/stats';
import type { MetricInput } from '../types';
import { KayentaJudge } from './kayenta-judge';

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);
const shifted = (values: number[], by: number) => values.map((v) => v + by);
const metric = (
  name: string,
  baseline: number[],
  canary: number[],
  extra: Partial<MetricInput> = {},
): MetricInput => ({
  name,
  baseline,
  canary,
  direction: 'either',
  ...extra,
});
const BASE = range(30, 100);
const steady = metric('steady', BASE, BASE);

describe('kayenta judge: per-metric classification', () => {
  const judge = new KayentaJudge();
  const classify = (m: MetricInput) => judge.judge({ metrics: [m] }).metrics[0];

  it('passes identical data and a single distinct value, as Kayenta does', () => {
    expect(classify(metric('m', [3, 1, 2], [2, 3, 1]))).toMatchObject({
      classification: 'Pass',
      reason: 'canary and baseline data are identical',
    });
    expect(classify(metric('m', [5, 5], [5, 5, 5]))).toMatchObject({
      classification: 'Pass',
      reason: 'every value is the same',
    });
  });

  it('calls a clear increase High and reports U, p and the mean ratio', () => {
    const result = classify(metric('latency', BASE, shifted(BASE, 20)));
    expect(result.classification).toBe('High');
    expect(result.u).toBeGreaterThan(800); // 900 pairs; most canary values above
    expect(result.pValue).toBeLessThan(0.001);
    expect(result.effect).toBeCloseTo(134.5 / 114.5, 12);
    expect(result.reason).toMatch(
      /^canary is higher: shift 20, 98% CI \[.*\] lies above \+5; meanRatio 1\.17$/,
    );
  });

  it('follows the direction: a decrease only fails when decrease or either is bad', () => {
    const lower = (direction: MetricInput['direction']) =>
      classify(metric('m', BASE, shifted(BASE, -20), { direction }));
    expect(lower('either').classification).toBe('Low');
    expect(lower('decrease').classification).toBe('Low');
    expect(lower('increase')).toMatchObject({
      classification: 'Pass',
      reason: expect.stringContaining('only an increase is bad'),
    });
  });

  it('needs the interval to clear zero by 25% of the estimate, not just exclude zero', () => {
    // Shift 8 over 0..29: the 98% interval is [2, 14]; 2 is not above 0.25·8 = 2, so Pass.
    const canary = shifted(range(30), 8);
    expect(hodgesLehmann(range(30), canary, 0.98)).toMatchObject({ estimate: 8, lower: 2 });
    expect(classify(metric('m', range(30), canary)).classification).toBe('Pass');
    // Shift 9: the interval starts at 3 > 2.25, so High.
    expect(classify(metric('m', range(30), shifted(range(30), 9))).classification).toBe('High');
  });

  it('lets the rank test alone decide when the baseline mean is 0 (mean ratio undefined)', () => {
    const result = classify(
      metric(
        'errors',
        range(20).map(() => 0),
        range(20).map((i) => 3 + (i % 4)),
      ),
    );
    expect(result).toMatchObject({ classification: 'High', effect: null });
  });

  it('drops NaN by default and turns it into 0 with nanStrategy replace', () => {
    const withGaps = metric('m', [...BASE, NaN, NaN], [...BASE, NaN]);
    expect(classify(withGaps).reason).toBe('canary and baseline data are identical');
    const replacing = new KayentaJudge({ metrics: { m: { nanStrategy: 'replace' } } });
    const replaced = replacing.judge({ metrics: [withGaps] }).metrics[0];
    // Baseline BASE + [0, 0], canary BASE + [0]. Canary 0 ties both zeros: 1. Each of the 30
    // canary BASE values beats both zeros: 60; BASE against BASE: 435 wins + 30 ties × ½ = 450.
    expect(replaced.u).toBe(1 + 60 + 450);
  });

  it('classifies missing data as NoData, or NoDataFail when the metric must have data', () => {
    expect(classify(metric('m', BASE, []))).toMatchObject({
      classification: 'NoData',
      reason: 'no canary data',
    });
    const strict = new KayentaJudge({ metrics: { m: { mustHaveData: true } } });
    expect(strict.judge({ metrics: [metric('m', [NaN], BASE)] }).metrics[0]).toMatchObject({
      classification: 'NoDataFail',
      reason: 'no baseline data, and the metric must have data',
    });
  });

  it('requires the allowed effect size on top of the rank test', () => {
    const judgeWithAllowance = new KayentaJudge({
      metrics: { m: { effectSize: { allowedIncrease: 1.5 } } },
    });
    const result = judgeWithAllowance.judge({ metrics: [metric('m', BASE, shifted(BASE, 20))] })
      .metrics[0];
    expect(result).toMatchObject({
      classification: 'Pass',
      reason: expect.stringContaining('below the allowed effect size'),
    });
  });

  it('reports CLES as the effect when configured', () => {
    const cles = new KayentaJudge({ metrics: { m: { effectSize: { measure: 'cles' } } } });
    const result = cles.judge({ metrics: [metric('m', [1, 2, 3], [2, 4, 6, 8])] }).metrics[0];
    // Pairs canary > baseline: 2>1, 2=2 (½), 4,6,8 > all three: 1 + 0.5 + 9 = 10.5 of 12
    expect(result.u).toBe(10.5);
    expect(result.effect).toBe(10.5 / 12);
  });
});

describe('kayenta judge: scoring', () => {
  const judge = new KayentaJudge();
  const high = metric('latency', BASE, shifted(BASE, 20));

  it('scores the share of passing groups: one High of two is 50 and fails', () => {
    expect(judge.judge({ metrics: [steady, high] })).toMatchObject({
      verdict: 'FAIL',
      score: 50,
      reasons: ['score 50 < marginal threshold 75'],
    });
  });

  it('weighs groups by the request weights when no group weights are configured', () => {
    const verdict = judge.judge({ metrics: [{ ...steady, weight: 19 }, high] });
    expect(verdict).toMatchObject({ score: 95, verdict: 'PASS' });
  });

  it('applies configured group weights, the rest shared by unweighted groups', () => {
    const grouped = new KayentaJudge({
      groupWeights: { latency: 70 },
      metrics: {
        a: { groups: ['latency'] },
        b: { groups: ['latency'] },
        c: { groups: ['errors'] },
      },
      scoreThresholds: { pass: 60, marginal: 40 },
    });
    const verdict = grouped.judge({
      metrics: [
        metric('a', BASE, BASE),
        metric('b', BASE, shifted(BASE, 20)),
        metric('c', BASE, BASE),
      ],
    });
    // latency group 50 × 0.7 + errors group 100 × 0.3 = 65 ≥ pass 60
    expect(verdict).toMatchObject({ score: 65, verdict: 'PASS' });
  });

  it('zeroes the score when a critical metric fails beyond its critical effect size', () => {
    const verdict = judge.judge({ metrics: [steady, { ...high, critical: true }] });
    expect(verdict).toMatchObject({
      verdict: 'FAIL',
      score: 0,
      reasons: ['critical metric failed: latency (High)'],
    });
  });

  it('treats a critical metric below its critical effect size as an ordinary failure', () => {
    const lenient = new KayentaJudge({
      metrics: { latency: { effectSize: { criticalIncrease: 5 } } },
    });
    const verdict = lenient.judge({ metrics: [steady, { ...high, critical: true }] });
    expect(verdict).toMatchObject({ verdict: 'FAIL', score: 50 });
  });

  it('counts NoDataFail as a failure in its group', () => {
    const strict = new KayentaJudge({ metrics: { missing: { mustHaveData: true } } });
    const verdict = strict.judge({
      metrics: [steady, steady, metric('missing', BASE, [])].map((m, i) => ({
        ...m,
        name: i < 2 ? `s${i}` : m.name,
      })),
    });
    expect(verdict.score).toBeCloseTo(66.67, 2);
    expect(verdict.verdict).toBe('FAIL');
  });

  it('never passes with a metric lacking data, though Kayenta would score it 100', () => {
    const verdict = judge.judge({
      metrics: [steady, { ...steady, name: 'b' }, metric('empty', [], BASE)],
    });
    expect(verdict).toMatchObject({ verdict: 'NODATA', score: 100 });
    expect(verdict.reasons[0]).toBe('score 100 would pass, but no data for: empty');
  });

  it('gives NODATA with score 0 when half the metrics have no data', () => {
    const verdict = judge.judge({ metrics: [steady, metric('empty', [], BASE)] });
    expect(verdict).toMatchObject({
      verdict: 'NODATA',
      score: 0,
      reasons: ['1 of 2 metrics have no data'],
    });
  });

  it('gives NODATA, not PASS or FAIL, when a critical metric has no data', () => {
    const verdict = judge.judge({
      metrics: [steady, { ...steady, name: 'b' }, metric('c', BASE, [], { critical: true })],
    });
    expect(verdict).toMatchObject({
      verdict: 'NODATA',
      score: 0,
      reasons: ['critical metric without data: c'],
    });
  });

  it('reports muted metrics without scoring them', () => {
    const muting = new KayentaJudge({ metrics: { latency: { muted: true } } });
    const verdict = muting.judge({ metrics: [steady, high] });
    expect(verdict).toMatchObject({ verdict: 'PASS', score: 100 });
    expect(verdict.metrics[1]).toMatchObject({
      classification: 'High',
      reason: expect.stringMatching(/^muted, not scored: /),
    });
  });

  it('labels scores between the thresholds MARGINAL (bounds inclusive)', () => {
    const metrics = [...range(3).map((i) => ({ ...steady, name: `s${i}` })), high];
    expect(judge.judge({ metrics })).toMatchObject({ verdict: 'MARGINAL', score: 75 });
  });

  it('has nothing to decide without metrics', () => {
    expect(judge.judge({ metrics: [] })).toMatchObject({ verdict: 'NODATA', score: 0 });
  });
});
