import { createRandom } from '@rollgate/stats';
import { JudgeInputError } from '../errors';
import type { JudgeRequest, MetricInput } from '../types';
import { SequentialJudge, type SequentialRunState } from './sequential-judge';

/** Per-request traffic of both groups: error flags and log-normal latencies (median 100 ms). */
function traffic(
  seed: number,
  requests: number,
  canary: { errorRate: number; latencyFactor: number },
) {
  const random = createRandom(seed);
  const group = (errorRate: number, factor: number) => ({
    errors: Array.from({ length: requests }, () => (random.uniform() < errorRate ? 1 : 0)),
    latencies: Array.from(
      { length: requests },
      () => 100 * factor * Math.exp(0.5 * random.normal()),
    ),
  });
  return { baseline: group(0.01, 1), canary: group(canary.errorRate, canary.latencyFactor) };
}

const HEALTHY = { errorRate: 0.01, latencyFactor: 1 };

function request(data: ReturnType<typeof traffic>, upTo = Infinity): JudgeRequest {
  const cut = (values: number[]) => values.slice(0, upTo);
  return {
    metrics: [
      {
        name: 'error-rate',
        baseline: cut(data.baseline.errors),
        canary: cut(data.canary.errors),
        direction: 'increase',
      },
      {
        name: 'latency',
        baseline: cut(data.baseline.latencies),
        canary: cut(data.canary.latencies),
        direction: 'increase',
      },
    ],
  };
}

/** Looks every `perLook` requests until PASS or FAIL; returns the look that decided. */
function runIncrementally(
  judge: SequentialJudge,
  data: ReturnType<typeof traffic>,
  perLook: number,
) {
  let state = judge.start();
  const total = data.baseline.errors.length;
  for (let upTo = perLook; upTo <= total; upTo += perLook) {
    const look = judge.observe(state, request(data, upTo));
    state = look.state;
    if (look.verdict.verdict === 'PASS' || look.verdict.verdict === 'FAIL')
      return { ...look, upTo };
  }
  return { state, verdict: judge.observe(state, request(data)).verdict, upTo: total };
}

describe('sequential judge, one look', () => {
  const judge = new SequentialJudge();

  it('fails a clear error-rate regression, naming the metric and the evidence', () => {
    const verdict = judge.judge(request(traffic(1, 3000, { errorRate: 0.06, latencyFactor: 1 })));
    expect(verdict.verdict).toBe('FAIL');
    expect(verdict.reasons).toEqual(['regression established: error-rate']);
    expect(verdict.metrics[0].classification).toBe('High');
    expect(verdict.metrics[0].reason).toMatch(
      /^regression: share of 1s canary [\d.]+% vs baseline [\d.]+% \(ratio [\d.]+\); always-valid p [\d.e-]+ within its share of α = 0\.008$/,
    );
    expect(verdict.metrics[0].u).not.toBeNull();
  });

  it('fails a latency shift on the log scale as a relative change', () => {
    const verdict = judge.judge(request(traffic(2, 2000, { errorRate: 0.01, latencyFactor: 1.3 })));
    expect(verdict.metrics[1]).toMatchObject({
      classification: 'High',
      reason: expect.stringMatching(/typical value \+\d+(\.\d+)?%/),
    });
  });

  it('passes a healthy canary once every metric rules out its minimum regression', () => {
    const verdict = judge.judge(request(traffic(3, 20000, HEALTHY)));
    expect(verdict).toMatchObject({ verdict: 'PASS', score: 100 });
    expect(
      verdict.metrics.every((m) => m.reason.startsWith('no regression of the minimum size')),
    ).toBe(true);
  });

  it('is MARGINAL (look again) while the evidence is not conclusive', () => {
    const verdict = judge.judge(request(traffic(4, 200, HEALTHY)));
    expect(verdict.verdict).toBe('MARGINAL');
    expect(verdict.metrics.map((m) => m.classification)).toEqual(['Inconclusive', 'Inconclusive']);
  });

  it('is NODATA without canary data, and a passing metric cannot turn that into PASS', () => {
    const data = traffic(5, 20000, HEALTHY);
    const verdict = judge.judge({
      metrics: [
        ...request(data).metrics,
        { name: 'saturation', baseline: [0.5, 0.6], canary: [], direction: 'increase' },
      ],
    });
    expect(verdict).toMatchObject({ verdict: 'NODATA', reasons: ['no data yet for: saturation'] });
    expect(verdict.metrics[2]).toMatchObject({
      classification: 'NoData',
      reason: 'no canary data yet',
    });
  });

  it('watches a decrease when a drop is bad (success flags)', () => {
    const success = (rate: number) =>
      Array.from({ length: 4000 }, (_, i) => (i % 100 < rate * 100 ? 1 : 0));
    const verdict = judge.judge({
      metrics: [
        { name: 'success', baseline: success(0.99), canary: success(0.9), direction: 'decrease' },
      ],
    });
    expect(verdict.metrics[0].classification).toBe('Low');
  });
});

describe('sequential judge, looking interval by interval', () => {
  const judge = new SequentialJudge();

  it('stops at the first conclusive look, well before all data is in', () => {
    const { verdict, upTo } = runIncrementally(
      judge,
      traffic(10, 5000, { errorRate: 0.05, latencyFactor: 1 }),
      100,
    );
    expect(verdict.verdict).toBe('FAIL');
    expect(upTo).toBeLessThan(2000);
  });

  it('repeating a look with the same cumulative data changes nothing (redelivery is harmless)', () => {
    const data = traffic(11, 400, HEALTHY);
    const first = judge.observe(judge.start(), request(data, 200));
    const again = judge.observe(first.state, request(data, 200));
    expect(again.state.metrics).toEqual(first.state.metrics);
    expect(again.verdict).toEqual(first.verdict);
  });

  it('gives the same verdicts from a state that went through JSON (stored and rebuilt)', () => {
    const data = traffic(12, 3000, { errorRate: 0.03, latencyFactor: 1.05 });
    let live = judge.start();
    let stored: SequentialRunState = judge.start();
    for (let upTo = 150; upTo <= 3000; upTo += 150) {
      const a = judge.observe(live, request(data, upTo));
      const b = judge.observe(
        JSON.parse(JSON.stringify(stored)) as SequentialRunState,
        request(data, upTo),
      );
      expect(b.verdict).toEqual(a.verdict);
      live = a.state;
      stored = b.state;
    }
  });

  it('keeps its PASS or FAIL once reached', () => {
    const data = traffic(13, 3000, { errorRate: 0.1, latencyFactor: 1 });
    const decided = runIncrementally(judge, data, 100);
    expect(decided.verdict.verdict).toBe('FAIL');
    const later = judge.observe(decided.state, request(traffic(14, 3000, HEALTHY)));
    expect(later.verdict).toBe(decided.verdict);
  });

  it('computes u and pValue only on a PASS or FAIL unless asked for every look', () => {
    const data = traffic(15, 200, HEALTHY);
    expect(judge.observe(judge.start(), request(data)).verdict.metrics[0]).toMatchObject({
      u: null,
      pValue: null,
    });
    const describing = new SequentialJudge({ describeEveryLook: true });
    expect(
      describing.observe(describing.start(), request(data)).verdict.metrics[0].u,
    ).not.toBeNull();
  });

  it('shares alpha across metrics by weight, a proportion counting proportionAlphaFactor times', () => {
    const data = traffic(16, 100, HEALTHY);
    const alphas = (j: SequentialJudge, metrics: MetricInput[]) =>
      j.observe(j.start(), { metrics }).state.metrics.map((m) => m.alpha);
    const [errors, latency] = request(data).metrics;
    // Default factor 4: errors 4 / (4 + 1) of α, latency 1 / 5.
    expect(alphas(judge, [errors, latency])).toEqual([0.008, 0.002]);
    const byWeight = [{ ...errors, weight: 3 }, latency];
    const [heavy, light] = alphas(judge, byWeight);
    expect(heavy).toBeCloseTo(0.01 * (12 / 13), 15);
    expect(light).toBeCloseTo(0.01 * (1 / 13), 15);
    const plain = new SequentialJudge({ proportionAlphaFactor: 1 });
    expect(alphas(plain, byWeight)).toEqual([0.0075, 0.0025]);
    // The kind comes from the settings when given: error flags declared continuous count once.
    const twoContinuous = new SequentialJudge({
      metrics: { 'error-rate': { kind: 'continuous' } },
    });
    expect(alphas(twoContinuous, [errors, latency])).toEqual([0.005, 0.005]);
    const shares = alphas(judge, [errors, latency, { ...errors, name: 'timeouts' }]);
    expect(shares.reduce((sum, a) => sum! + a!, 0)).toBeCloseTo(0.01, 15);
  });

  it('waits for a value of every metric before sharing alpha, then feeds everything', () => {
    const data = traffic(17, 400, { errorRate: 0.08, latencyFactor: 1 });
    const full = request(data);
    const [errors, latency] = full.metrics;
    const early = judge.observe(judge.start(), {
      metrics: [errors, { ...latency, baseline: [], canary: [] }],
    });
    expect(early.verdict.verdict).toBe('NODATA');
    expect(early.state.metrics.map((m) => m.alpha)).toEqual([null, null]);
    expect(early.verdict.metrics[0].reason).toBe(
      'waiting for a value of every metric, to share α by kind',
    );
    expect(early.verdict.metrics[1].reason).toBe('no baseline data yet');
    // The waiting values are not lost: the next look sees them all, as one look at everything.
    const later = judge.observe(early.state, full);
    expect(later.state.metrics.map((m) => m.alpha)).toEqual([0.008, 0.002]);
    expect(later.verdict).toEqual(judge.judge(full));
  });

  it('keeps false FAILs of healthy canaries below alpha over 40 looks', () => {
    const loose = new SequentialJudge({ alpha: 0.1 });
    const runs = Array.from({ length: 150 }, (_, i) =>
      runIncrementally(loose, traffic(1000 + i, 2000, HEALTHY), 50),
    );
    const falseFails = runs.filter((r) => r.verdict.verdict === 'FAIL').length / runs.length;
    expect(falseFails).toBeLessThanOrEqual(0.1);
  });
});

describe('sequential judge input errors', () => {
  const judge = new SequentialJudge();
  const data = traffic(20, 100, HEALTHY);

  it('refuses samples that shrank: looks take cumulative data', () => {
    const { state } = judge.observe(judge.start(), request(data, 80));
    expect(() => judge.observe(state, request(data, 50))).toThrow(
      new JudgeInputError(
        'metric "error-rate": baseline has 50 values, fewer than the 80 already seen; send cumulative samples',
      ),
    );
  });

  it('refuses a different set of metrics in the same run', () => {
    const { state } = judge.observe(judge.start(), request(data));
    expect(() => judge.observe(state, { metrics: [request(data).metrics[0]] })).toThrow(
      'the metrics changed during the run; expected: error-rate, latency',
    );
  });

  it('refuses non-0/1 values in a proportion metric and non-positive values on a log scale', () => {
    const { state } = judge.observe(judge.start(), request(data, 50));
    const broken = request(data);
    const errors = {
      ...broken.metrics[0],
      canary: [...broken.metrics[0].canary.slice(0, 99), 0.5],
    };
    expect(() => judge.observe(state, { metrics: [errors, broken.metrics[1]] })).toThrow(
      'metric "error-rate": a proportion metric takes only 0 and 1 values',
    );
    const latency = { ...broken.metrics[1], canary: [...broken.metrics[1].canary.slice(0, 99), 0] };
    expect(() => judge.observe(state, { metrics: [broken.metrics[0], latency] })).toThrow(
      'metric "latency": value 0 on a log scale; set scale: linear',
    );
  });
});
