import { resolve } from 'node:path';
import { LocalFleetDriver, type FleetInstance } from '@rollgate/fleet';
import { startPrometheus, waitForScrapes, type PrometheusServer } from '@rollgate/platform/testing';
import { PrometheusSource } from './prometheus-source';
import { histogramQuantile } from './signals';

const ROOT = resolve(__dirname, '../../../..');
const build = (c: string) => `sha256:${c.repeat(64)}`;
const GOOD = build('a');
const BAD = build('b');
const SHOP_V1 = build('c');
const SHOP_V2 = build('d');

/** Sends `perSecond` requests a second to an instance for `seconds`; returns how many were sent. */
async function drive(instance: FleetInstance, perSecond: number, seconds: number): Promise<number> {
  let sent = 0;
  const until = Date.now() + seconds * 1000;
  const pending: Promise<unknown>[] = [];
  while (Date.now() < until) {
    pending.push(fetch(`http://127.0.0.1:${instance.port}/work`).then((r) => r.arrayBuffer()));
    sent++;
    await new Promise((r) => setTimeout(r, 1000 / perSecond));
  }
  await Promise.allSettled(pending);
  return sent;
}

describe('Prometheus metric source against a real Prometheus scraping real instances', () => {
  const fleet = new LocalFleetDriver({
    root: ROOT,
    profiles: new Map([
      [GOOD, { errorRate: 0, latencyMs: 8, latencySpread: 0.2 }],
      [BAD, { errorRate: 0.2, latencyMs: 60, latencySpread: 0.2 }],
    ]),
  });
  let prometheus: PrometheusServer | undefined;
  let canary: FleetInstance;
  let baseline: FleetInstance;

  beforeAll(async () => {
    [canary, baseline] = await Promise.all([
      fleet.start({ service: 'prom-int', version: 'v2', digest: BAD, group: 'canary' }),
      fleet.start({ service: 'prom-int', version: 'v1', digest: GOOD, group: 'baseline' }),
    ]);
    prometheus = await startPrometheus([
      {
        job_name: 'sample',
        static_configs: [{ targets: [canary, baseline].map((i) => `127.0.0.1:${i.port}`) }],
      },
    ]);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop('SIGKILL');
    await fleet.close();
  });

  it('reads every golden signal per group over query_range, and fails loudly once Prometheus is gone', async () => {
    const source = new PrometheusSource(prometheus!.url);
    // Prometheus must have scraped the idle instances, so increase() has a starting point.
    await waitForScrapes(prometheus!.url, 2);
    const cursor = await source.mark();
    const [toCanary, toBaseline] = await Promise.all([
      drive(canary, 40, 4),
      drive(baseline, 40, 4),
    ]);
    // Two more scrapes so the last requests are in Prometheus.
    await new Promise((r) => setTimeout(r, 2_500));
    const reading = await source.readSince('prom-int', cursor);
    const { canary: c, baseline: b } = reading.signals!;

    // increase() extrapolates at the edges of the range: counts are close, not exact.
    expect(c.requests).toBeGreaterThan(toCanary * 0.8);
    expect(c.requests).toBeLessThan(toCanary * 1.25);
    expect(b.requests).toBeGreaterThan(toBaseline * 0.8);
    expect(c.errors / c.requests).toBeGreaterThan(0.1);
    expect(c.errors / c.requests).toBeLessThan(0.3);
    expect(b.errors).toBe(0);
    // Latency histograms: canary around 60 ms, baseline around 8 ms.
    expect(histogramQuantile(c.latencyCounts, 0.5)).toBeGreaterThan(40);
    expect(histogramQuantile(b.latencyCounts, 0.5)).toBeLessThan(15);
    expect(histogramQuantile(c.latencyCounts, 0.99)!).toBeGreaterThan(
      histogramQuantile(c.latencyCounts, 0.5)!,
    );
    // Saturation: 40 req/s × 60 ms ≈ 2.4 in flight on the canary, 40 × 8 ms ≈ 0.3 on the baseline.
    expect(c.saturation!).toBeGreaterThan(b.saturation! * 2);
    expect(JSON.parse(reading.cursor).at).toBeGreaterThan(JSON.parse(cursor).at);

    await prometheus!.stop('SIGKILL');
    await expect(source.readSince('prom-int', reading.cursor)).rejects.toThrow(/fetch failed/);
    await expect(source.mark()).rejects.toThrow();
  }, 60_000);
});

describe("Prometheus source: a canary config's own queries, against instances with Micrometer names", () => {
  // Both builds are equally fast and reliable; v2 completes a checkout fifteen times less often.
  const healthy = {
    errorRate: 0,
    latencyMs: 8,
    latencySpread: 0.2,
    metricsNaming: 'micrometer',
  } as const;
  const fleet = new LocalFleetDriver({
    root: ROOT,
    profiles: new Map([
      [SHOP_V1, { ...healthy, checkoutRate: 0.3 }],
      [SHOP_V2, { ...healthy, checkoutRate: 0.02 }],
    ]),
  });
  let prometheus: PrometheusServer | undefined;
  let canary: FleetInstance;
  let baseline: FleetInstance;
  const selector = 'service="${service}",group="${group}"';
  const metrics = [
    {
      name: 'errors',
      query: {
        prometheus: `(sum(rate(http_server_requests_seconds_count{${selector},outcome="SERVER_ERROR"}[\${interval}])) or vector(0)) / sum(rate(http_server_requests_seconds_count{${selector}}[\${interval}]))`,
      },
      direction: 'increase' as const,
    },
    {
      name: 'p99-latency',
      query: {
        prometheus: `histogram_quantile(0.99, sum by (le) (rate(http_server_requests_seconds_bucket{${selector},version="\${version}"}[\${interval}])))`,
      },
      direction: 'increase' as const,
    },
    {
      name: 'checkouts',
      query: { prometheus: `sum(rate(checkout_completed_total{${selector}}[\${interval}]))` },
      direction: 'decrease' as const,
    },
    {
      name: 'refunds',
      query: { prometheus: `sum(rate(refunds_total{${selector}}[\${interval}]))` },
      direction: 'increase' as const,
    },
  ];

  beforeAll(async () => {
    [canary, baseline] = await Promise.all([
      fleet.start({ service: 'shop-int', version: 'v2', digest: SHOP_V2, group: 'canary' }),
      fleet.start({ service: 'shop-int', version: 'v1', digest: SHOP_V1, group: 'baseline' }),
    ]);
    prometheus = await startPrometheus([
      {
        job_name: 'shop',
        static_configs: [{ targets: [canary, baseline].map((i) => `127.0.0.1:${i.port}`) }],
      },
    ]);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop('SIGKILL');
    await fleet.close();
  });

  it('runs each query per group: the checkout drop shows, errors and latency do not, a missing series is no data', async () => {
    const source = new PrometheusSource(prometheus!.url);
    await waitForScrapes(prometheus!.url, 2);
    const cursor = await source.mark();
    await Promise.all([drive(canary, 40, 5), drive(baseline, 40, 5)]);
    await new Promise((r) => setTimeout(r, 2_500));
    const reading = await source.readSince('shop-int', cursor, metrics);
    const custom = reading.signals!.custom!;

    // 40 req/s × 0.3 ≈ 12 checkouts/s on the baseline, 40 × 0.02 ≈ 0.8 on the canary.
    expect(custom['checkouts']!.baseline!).toBeGreaterThan(5);
    expect(custom['checkouts']!.canary!).toBeLessThan(custom['checkouts']!.baseline! / 3);
    expect(custom['errors']).toEqual({ canary: 0, baseline: 0 });
    // ${version} rendered per group from the series' labels: both groups found their histogram.
    expect(custom['p99-latency']!.canary!).toBeGreaterThan(0.005);
    expect(custom['p99-latency']!.canary!).toBeLessThan(0.1);
    expect(custom['p99-latency']!.baseline!).toBeLessThan(0.1);
    expect(custom['refunds']).toEqual({
      canary: null,
      baseline: null,
      problem: 'canary: the query returned nothing; baseline: the query returned nothing',
    });
    // The built-in names are not exposed: the golden signals see no requests...
    expect(reading.signals!.canary.requests).toBe(0);
    // ...unless the config says how this service counts them: 40 req/s for 5 s per group.
    const counted = await source.readSince(
      'shop-int',
      cursor,
      metrics,
      `sum(increase(http_server_requests_seconds_count{${selector}}[\${interval}]))`,
    );
    for (const group of ['canary', 'baseline'] as const) {
      expect(counted.signals![group].requests).toBeGreaterThan(120);
      expect(counted.signals![group].requests).toBeLessThan(400);
    }
  }, 60_000);
});
