import { SimulatedFleetDriver } from './simulated-fleet-driver';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('the simulated fleet (ROLLGATE_FLEET=simulated)', () => {
  let now = 1_000_000;
  const driver = new SimulatedFleetDriver({
    rps: 10,
    seed: 5,
    now: () => now,
    profiles: new Map([
      [digest('b'), { errorRate: 1, latencyMs: 1 }],
      [digest('d'), { actuallyRuns: { version: 'v0', digest: digest('0') } }],
      [digest('c'), { crashesOnStart: true }],
    ]),
  });
  afterAll(() => driver.close());

  it('runs in-process instances that answer like the sample service and say they are simulated', async () => {
    const good = await driver.start({
      service: 'shop',
      version: 'v1',
      digest: digest('a'),
      group: 'stable',
    });
    const bad = await driver.start({
      service: 'shop',
      version: 'v2',
      digest: digest('b'),
      group: 'canary',
    });
    expect(good.id).toMatch(/^simulated-shop-stable-/);
    const info = (await (await fetch(`http://127.0.0.1:${good.port}/info`)).json()) as Record<
      string,
      unknown
    >;
    expect(info).toMatchObject({ fleet: 'simulated', pid: null, version: 'v1', group: 'stable' });
    expect((await fetch(`http://127.0.0.1:${bad.port}/work`)).status).toBe(500);
    expect((await fetch(`http://127.0.0.1:${good.port}/healthz`)).status).toBe(200);

    // 10 req/s synthesised per instance, computed when scraped: 30 s later, 300 more requests.
    now += 30_000;
    const text = await (await fetch(`http://127.0.0.1:${bad.port}/metrics`)).text();
    expect(text).toContain(
      'sample_requests_total{status="500",service="shop",version="v2",group="canary"} 301',
    );
    const observed = await driver.observe('shop');
    expect(observed.map((o) => [o.group, o.healthy, o.reported?.digest])).toEqual([
      ['stable', true, digest('a')],
      ['canary', true, digest('b')],
    ]);
  });

  it('plays the drills: a build that runs another, a build that crashes on start', async () => {
    const drift = await driver.start({
      service: 'pay',
      version: 'v3',
      digest: digest('d'),
      group: 'canary',
    });
    const [seen] = await driver.observe('pay');
    expect(seen).toMatchObject({
      intended: { digest: digest('d') },
      reported: { digest: digest('0') },
    });
    await expect(
      driver.start({ service: 'pay', version: 'v4', digest: digest('c'), group: 'canary' }),
    ).rejects.toThrow(/crash drill/);
    await driver.stop(drift.id);
    await expect(fetch(`http://127.0.0.1:${drift.port}/healthz`)).rejects.toThrow();
    expect(await driver.observe('pay')).toEqual([]);
  });

  it('holds 2,000 instances in one process without a timer each', async () => {
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const specs = Array.from({ length: 2_000 }, (_, i) => ({
      service: `svc-${Math.floor(i / 4)}`,
      version: 'v1',
      digest: digest('a'),
      group: 'stable' as const,
    }));
    for (let i = 0; i < specs.length; i += 200)
      await Promise.all(specs.slice(i, i + 200).map((s) => driver.start(s)));
    expect(driver.size()).toBeGreaterThanOrEqual(2_000);
    const perInstanceKb = (process.memoryUsage().rss - before) / 1024 / 2_000;
    // Recorded for the README; generous bound so the test is about "tiny", not about the machine.
    expect(perInstanceKb).toBeLessThan(200);
    expect(Date.now() - started).toBeLessThan(30_000);
    const mine = await driver.observe('svc-499');
    expect(mine.map((o) => o.service)).toEqual(Array(4).fill('svc-499'));
    expect(mine[0]?.healthy).toBe(true);
    expect((await driver.observe()).length).toBe(driver.size());
  }, 60_000);
});
