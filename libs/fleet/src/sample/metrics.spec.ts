import { InFlightMeter, createMetrics } from './metrics';

describe('sample service metrics', () => {
  it('reports the time-weighted mean in flight since the previous read', () => {
    let now = 0;
    const meter = new InFlightMeter(() => now);
    meter.started(); // 1 in flight from t=0
    now = 500;
    meter.started(); // 2 from t=500
    now = 1000;
    meter.finished();
    meter.finished();
    // 1 × 500 ms + 2 × 500 ms over 1000 ms
    expect(meter.meanSinceLastRead()).toBeCloseTo(1.5);
    now = 2000;
    expect(meter.meanSinceLastRead()).toBe(0);
  });

  it('exposes requests by status, a latency histogram and saturation with the identity labels', async () => {
    const metrics = createMetrics({ service: 'checkout', version: 'v2', group: 'canary' });
    metrics.track()(200);
    metrics.track()(500);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'sample_requests_total{status="500",service="checkout",version="v2",group="canary"} 1',
    );
    expect(text).toMatch(
      /sample_request_duration_seconds_bucket\{le="0.001",service="checkout",version="v2",group="canary"\} \d/,
    );
    expect(text).toContain(
      'sample_request_duration_seconds_count{service="checkout",version="v2",group="canary"} 2',
    );
    expect(text).toMatch(
      /sample_in_flight_requests\{service="checkout",version="v2",group="canary"\} 0/,
    );
  });
});

describe('synthetic requests', () => {
  it('counts marked requests apart, by status, under either naming', async () => {
    for (const naming of ['sample', 'micrometer'] as const) {
      const metrics = createMetrics({ service: 's', version: 'v1', group: 'baseline' }, naming);
      metrics.countSynthetic(200);
      metrics.countSynthetic(200);
      const text = await metrics.registry.metrics();
      expect(text).toContain(
        'rollgate_synthetic_requests_total{status="200",service="s",version="v1",group="baseline"} 2',
      );
    }
  });
});

describe('sample service metrics under Micrometer names, with the business counter', () => {
  it('exposes http_server_requests_seconds by status and outcome and counts checkouts, without sample_*', async () => {
    const metrics = createMetrics(
      { service: 'shop', version: 'v1', group: 'canary' },
      'micrometer',
    );
    metrics.track()(200, true);
    metrics.track()(500);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(
      /http_server_requests_seconds_count\{service="shop",version="v1",group="canary",method="GET",uri="\/work",status="500",outcome="SERVER_ERROR"\} 1/,
    );
    expect(text).toMatch(
      /http_server_requests_seconds_bucket\{le="\+Inf",[^}]*status="200"[^}]*\} 1/,
    );
    expect(text).toContain(
      'checkout_completed_total{service="shop",version="v1",group="canary"} 1',
    );
    expect(text).not.toContain('sample_');
  });

  it('exposes both sets of names when asked', async () => {
    const metrics = createMetrics({ service: 'shop', version: 'v1', group: 'canary' }, 'both');
    metrics.track()(200);
    const text = await metrics.registry.metrics();
    expect(text).toContain('sample_request_duration_seconds_count');
    expect(text).toContain('http_server_requests_seconds_count');
  });
});
