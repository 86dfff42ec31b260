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
