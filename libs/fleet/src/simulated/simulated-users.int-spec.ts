import { EmbeddedProxyDataPlane } from '@rollgate/data-planes';
import type { FleetInstance } from '../fleet-driver';
import { SimulatedFleetDriver } from './simulated-fleet-driver';
import { SIMULATED_OUTCOMES_PATH, SimulatedUsers } from './simulated-users';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const backend = ({ id, port }: FleetInstance) => ({ id, host: '127.0.0.1', port });

describe('simulated users: through the embedded data plane, answered by simulated instances', () => {
  const driver = new SimulatedFleetDriver({
    seed: 11,
    profiles: new Map([[digest('b'), { errorRate: 0.5, latencyMs: 200 }]]),
  });
  const proxy = new EmbeddedProxyDataPlane();
  afterAll(async () => {
    await proxy.close();
    await driver.close();
  });

  const start = (service: string, group: 'stable' | 'canary' | 'baseline', d: string) =>
    driver.start({ service, version: d === digest('b') ? 'v2' : 'v1', digest: d, group });

  it('route, group counters and instance metrics see the requests; only the transport is simulated', async () => {
    const stable = await start('shop', 'stable', digest('a'));
    const baseline = await start('shop', 'baseline', digest('a'));
    const canary = await start('shop', 'canary', digest('b'));
    const quiet = await start('quiet', 'stable', digest('a'));
    await proxy.apply({
      service: 'shop',
      weights: { stable: 50, baseline: 25, canary: 25 },
      backends: {
        stable: [backend(stable)],
        baseline: [backend(baseline)],
        canary: [backend(canary)],
      },
      sticky: { header: 'x-user-id' },
    });
    await proxy.apply({
      service: 'quiet',
      weights: { stable: 100 },
      backends: { stable: [backend(quiet)] },
    });
    expect(proxy.servicesInAnalysis()).toEqual(['shop']);

    const users = new SimulatedUsers(proxy, 2_000);
    await new Promise((r) => setTimeout(r, 1_000));
    await users.tick();
    await users.close();

    const sent = users.count();
    expect(sent).toBeGreaterThanOrEqual(1_900);
    const stats = (await proxy.stats('shop'))!;
    const requests = (g: 'stable' | 'baseline' | 'canary') => stats.groups[g]!.requests;
    expect(requests('stable') + requests('baseline') + requests('canary')).toBe(sent);
    // Sticky users hash into groups by weight: about a quarter each to canary and baseline.
    expect(requests('canary') / sent).toBeGreaterThan(0.15);
    expect(requests('canary') / sent).toBeLessThan(0.35);
    // The canary's profile: half of its requests fail, slowly; the baseline's do not.
    expect(stats.groups.canary!.errors / requests('canary')).toBeGreaterThan(0.35);
    expect(stats.groups.canary!.errors / requests('canary')).toBeLessThan(0.65);
    expect(stats.groups.baseline!.errors / requests('baseline')).toBeLessThan(0.05);
    // The instance counts what it answered, as if each request had been served.
    const metrics = await (await fetch(`http://127.0.0.1:${canary.port}/metrics`)).text();
    const served = [...metrics.matchAll(/^sample_requests_total\{[^}]*\} (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    expect(served).toBe(requests('canary'));
    expect((await proxy.stats('quiet'))!.groups.stable?.requests ?? 0).toBe(0);
  });

  it('counts the requests of an instance that cannot answer as 502, and refuses a bad batch', async () => {
    const gone = await start('gone', 'canary', digest('a'));
    const stable = await start('gone', 'stable', digest('a'));
    await proxy.apply({
      service: 'gone',
      weights: { stable: 0, canary: 100 },
      backends: { stable: [backend(stable)], canary: [backend(gone)] },
    });
    await driver.stop(gone.id);
    await proxy.simulate('gone', ['u1', 'u2', 'u3'], () => Promise.reject(new Error('refused')));
    expect((await proxy.stats('gone'))!.groups.canary).toMatchObject({ requests: 3, errors: 3 });

    const refused = await fetch(
      `http://127.0.0.1:${stable.port}${SIMULATED_OUTCOMES_PATH}?count=x`,
    );
    expect(refused.status).toBe(400);
  });
});
