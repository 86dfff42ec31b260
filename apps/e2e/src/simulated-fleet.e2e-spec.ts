import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deploy,
  embeddedTarget,
  route,
  running,
  settle,
  type ReleaseTarget,
} from './release-scenarios';
import { api, digest, portsEnv, stop, tempDir, type Proc } from './support';

const dir = tempDir('simulated');
const V1 = { digest: digest('1'), version: 'v1' };
const V2 = { digest: digest('2'), version: 'v2' };
// The bad build: one request in four fails.
const V3 = { digest: digest('3'), version: 'v3' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V3.digest]: { errorRate: 0.25, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(27300),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
  ROLLGATE_FLEET: 'simulated',
  // No test traffic: the simulated fleet's users are the only requests the data plane sees.
  ROLLGATE_SIMULATED_USERS_RPS: '150',
  ROLLGATE_SIMULATED_RPS: '5',
  ROLLGATE_SIMULATED_SEED: '11',
};

interface FleetView {
  instances: { id: string; group: string; healthy: boolean; reported: { digest: string } | null }[];
}
interface GroupStats {
  requests: number;
  errors: number;
}

describe('canary releases on ROLLGATE_FLEET=simulated, through the same router and analysis', () => {
  let host: Proc;
  let target: ReleaseTarget;

  beforeAll(async () => {
    ({ host, target } = await embeddedTarget(env, 'checkout'));
  });
  afterAll(async () => {
    await stop(host);
  });

  it('promotes a good canary and rolls a bad one back on simulated instances and users', async () => {
    const first = await deploy(target, V1, 'canary', {}, true);
    expect(await settle(target, first, ['succeeded'], 60_000)).toMatchObject({
      phase: 'succeeded',
    });
    const fleet = (
      await api(`${target.orchestrator}/fleet/instances?service=checkout`, 'GET', undefined)
    ).body as unknown as FleetView;
    expect(fleet.instances.length).toBe(2);
    expect(fleet.instances.map((i) => i.id)).toEqual([
      expect.stringMatching(/^simulated-checkout-/),
      expect.stringMatching(/^simulated-checkout-/),
    ]);
    const { backends, dataPlane } = await route(target);
    expect(dataPlane).toBe('embedded');
    // The routed instance is an in-process listener that says what it is.
    const info = (await (
      await fetch(`http://127.0.0.1:${backends['stable']![0]!.port}/info`)
    ).json()) as {
      fleet?: string;
      pid: number | null;
    };
    expect(info).toMatchObject({ fleet: 'simulated', pid: null });

    const plan = { canarySteps: [20, 50], stepSeconds: 12 };
    const good = await settle(target, await deploy(target, V2, 'canary', plan), [
      'succeeded',
      'rolled-back',
      'paused',
    ]);
    expect(good).toMatchObject({ phase: 'succeeded', version: V2.version });

    const bad = await settle(target, await deploy(target, V3, 'canary', plan), [
      'succeeded',
      'rolled-back',
      'paused',
    ]);
    expect(bad['phase']).toBe('rolled-back');
    expect(String(bad['reason'])).toMatch(/analysis FAIL at step 0/);
    expect((await route(target)).weights).toMatchObject({ stable: 100, canary: 0, baseline: 0 });

    // What the analysis judged came through the router's data plane from the simulated users.
    const stats = (await api(`${target.router}/routes/checkout/stats`, 'GET', undefined)).body as {
      groups: Record<string, GroupStats>;
    };
    expect(stats.groups['canary']!.requests).toBeGreaterThan(200);
    expect(stats.groups['canary']!.errors).toBeGreaterThan(20);

    // The instances that take the traffic run v2 again; their /metrics hold synthesised traffic.
    expect((await running(target)).digests).toEqual([V2.digest, V2.digest]);
    const port = (await route(target)).backends['stable']![0]!.port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const ok =
      /sample_requests_total\{status="200",service="checkout",version="v2",group="[a-z]+"\} (\d+)/.exec(
        text,
      );
    expect(Number(ok?.[1])).toBeGreaterThan(0);
  }, 300_000);
});
