import {
  HEALTHY,
  completesCheckout,
  outcome,
  parseBehaviour,
  parseMetricsNaming,
  prng,
} from './behaviour';

describe('sample service behaviour', () => {
  it('fails about the configured share of requests and centres latency on the median', () => {
    const random = prng(42);
    const results = Array.from({ length: 20_000 }, () =>
      outcome({ errorRate: 0.05, latencyMs: 50, latencySpread: 0.5 }, random),
    );
    const failed = results.filter((r) => r.status === 500).length / results.length;
    expect(failed).toBeGreaterThan(0.045);
    expect(failed).toBeLessThan(0.055);
    const sorted = results.map((r) => r.delayMs).sort((a, b) => a - b);
    expect(sorted[sorted.length / 2]).toBeGreaterThan(47);
    expect(sorted[sorted.length / 2]).toBeLessThan(53);
  });

  it('puts the 99th percentile at median × e^(2.326 × spread), as `rollgate demo` sets p50 and p99', () => {
    const random = prng(11);
    const spread = Math.log(120 / 40) / 2.3263;
    const sorted = Array.from(
      { length: 40_000 },
      () => outcome({ errorRate: 0, latencyMs: 40, latencySpread: spread }, random).delayMs,
    ).sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length * 0.5)]).toBeGreaterThan(38);
    expect(sorted[Math.floor(sorted.length * 0.5)]).toBeLessThan(42);
    expect(sorted[Math.floor(sorted.length * 0.99)]).toBeGreaterThan(110);
    expect(sorted[Math.floor(sorted.length * 0.99)]).toBeLessThan(130);
  });

  it('is reproducible per seed', () => {
    const a = prng(7);
    const b = prng(7);
    expect(Array.from({ length: 5 }, a)).toEqual(Array.from({ length: 5 }, b));
  });

  it('reads its knobs from the environment and refuses nonsense', () => {
    expect(parseBehaviour({})).toEqual(HEALTHY);
    expect(parseBehaviour({ SAMPLE_ERROR_RATE: '0.05' }).errorRate).toBe(0.05);
    expect(() => parseBehaviour({ SAMPLE_ERROR_RATE: '2' })).toThrow(
      'SAMPLE_ERROR_RATE must be a number in [0, 1]',
    );
  });
});

describe('sample service business behaviour', () => {
  it('completes checkouts on about the configured share of successful requests only', () => {
    const random = prng(7);
    const behaviour = { ...HEALTHY, checkoutRate: 0.3 };
    const ok = Array.from({ length: 10_000 }, () => completesCheckout(behaviour, 200, random));
    const share = ok.filter(Boolean).length / ok.length;
    expect(share).toBeGreaterThan(0.28);
    expect(share).toBeLessThan(0.32);
    expect(completesCheckout(behaviour, 500, () => 0)).toBe(false);
    expect(completesCheckout(HEALTHY, 200, () => 0)).toBe(false);
  });

  it('reads the checkout rate and the metric names from the environment', () => {
    expect(parseBehaviour({ SAMPLE_CHECKOUT_RATE: '0.25' }).checkoutRate).toBe(0.25);
    expect(() => parseBehaviour({ SAMPLE_CHECKOUT_RATE: '2' })).toThrow(/SAMPLE_CHECKOUT_RATE/);
    expect(parseMetricsNaming({})).toBe('sample');
    expect(parseMetricsNaming({ SAMPLE_METRICS_NAMING: 'micrometer' })).toBe('micrometer');
    expect(() => parseMetricsNaming({ SAMPLE_METRICS_NAMING: 'statsd' })).toThrow(/statsd/);
  });
});
