import { prng } from '../sample/behaviour';
import { createMetrics } from '../sample/metrics';
import { TrafficSynthesiser, behaviourOf } from './traffic-synthesiser';
import { simulatedSettingsFrom } from './simulated-settings';

describe('simulated traffic synthesis', () => {
  it('draws rate × elapsed requests lazily, carrying the fraction between calls', () => {
    let now = 0;
    const synth = new TrafficSynthesiser(behaviourOf({}), 2.5, prng(1), () => now);
    now = 1_000;
    expect(synth.due()).toHaveLength(2); // 2.5 owed, 0.5 carried
    now = 2_000;
    expect(synth.due()).toHaveLength(3); // 3.0 owed
    now = 2_000;
    expect(synth.due()).toHaveLength(0);
    let total = 5;
    for (let t = 2_000; t < 600_000; t += 7_321) {
      now = t;
      total += synth.due().length;
    }
    now = 600_000;
    total += synth.due().length;
    expect(total).toBeGreaterThanOrEqual(1_499);
    expect(total).toBeLessThanOrEqual(1_500);
  });

  it('fails the profile’s share of requests, centres latency on its median and counts checkouts', () => {
    let now = 0;
    const profile = { errorRate: 0.2, latencyMs: 40, latencySpread: 0.3, checkoutRate: 0.5 };
    const synth = new TrafficSynthesiser(behaviourOf(profile), 100, prng(42), () => now);
    now = 200_000;
    const requests = synth.due();
    expect(requests).toHaveLength(20_000);
    const failed = requests.filter((r) => r.status === 500).length / requests.length;
    expect(failed).toBeGreaterThan(0.19);
    expect(failed).toBeLessThan(0.21);
    const sorted = requests.map((r) => r.seconds * 1000).sort((a, b) => a - b);
    expect(sorted[sorted.length / 2]).toBeGreaterThan(38);
    expect(sorted[sorted.length / 2]).toBeLessThan(42);
    const ok = requests.filter((r) => r.status === 200);
    const checkouts = ok.filter((r) => r.checkout).length / ok.length;
    expect(checkouts).toBeGreaterThan(0.48);
    expect(checkouts).toBeLessThan(0.52);
    expect(requests.some((r) => r.status === 500 && r.checkout)).toBe(false);
  });

  it('is reproducible per seed', () => {
    const draw = (seed: number) => {
      let now = 0;
      const synth = new TrafficSynthesiser(
        behaviourOf({ errorRate: 0.3 }),
        10,
        prng(seed),
        () => now,
      );
      now = 10_000;
      return synth.due();
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('lands in the sample service’s exposition like answered requests', async () => {
    let now = 0;
    const metrics = createMetrics({ service: 'shop', version: 'v2', group: 'canary' });
    const synth = new TrafficSynthesiser(behaviourOf({ errorRate: 1 }), 3, prng(3), () => now);
    now = 10_000;
    for (const r of synth.due()) metrics.record(r.status, r.seconds, r.checkout);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      'sample_requests_total{status="500",service="shop",version="v2",group="canary"} 30',
    );
    expect(text).toContain(
      'sample_request_duration_seconds_count{service="shop",version="v2",group="canary"} 30',
    );
    // Synthesised requests count as time in flight (Little's law), so saturation is not zero.
    const inFlight = /sample_in_flight_requests\{[^}]*\} (\S+)/.exec(text);
    expect(Number(inFlight?.[1])).toBeGreaterThan(0);
  });

  it('reads its settings and names the variable it refuses', () => {
    expect(simulatedSettingsFrom({}, 'embedded')).toEqual({
      rps: 2,
      usersPerSecond: 20,
      seed: undefined,
    });
    expect(simulatedSettingsFrom({}, 'prometheus').usersPerSecond).toBe(0);
    expect(simulatedSettingsFrom({ ROLLGATE_SIMULATED_RPS: '0.5' }, 'embedded').rps).toBe(0.5);
    expect(() => simulatedSettingsFrom({ ROLLGATE_SIMULATED_RPS: '-1' }, 'embedded')).toThrow(
      /ROLLGATE_SIMULATED_RPS/,
    );
    expect(() =>
      simulatedSettingsFrom({ ROLLGATE_SIMULATED_USERS_RPS: 'lots' }, 'embedded'),
    ).toThrow(/ROLLGATE_SIMULATED_USERS_RPS/);
  });
});
