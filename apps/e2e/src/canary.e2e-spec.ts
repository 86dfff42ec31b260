import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  portsEnv,
  start,
  stop,
  tempDir,
  traffic,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const dir = tempDir('canary');
const build = (c: string) => `sha256:${c.repeat(64)}`;
const V1 = build('1');
const V2 = build('2');
const V3 = build('3');
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1]: { errorRate: 0.002, latencyMs: 5 },
    [V2]: { errorRate: 0.002, latencyMs: 5 },
    // The bad build: one request in four fails.
    [V3]: { errorRate: 0.25, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(19000),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const router = (env as Record<string, string>)['ROLLGATE_ROUTER_URL']!;

describe('canary releases on the embedded default, with a real fleet and real traffic', () => {
  let host: Proc;
  let token: string;
  let users: ReturnType<typeof traffic> | undefined;

  const deploy = async (digest: string, version: string, plan: object = {}) => {
    const created = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'checkout',
      artifact: { name: 'checkout', digest },
      version,
      strategy: 'canary',
      plan: { replicas: 2, canarySteps: [20, 50], stepSeconds: 12, ...plan },
    });
    expect(created.status).toBe(201);
    return created.body['releaseId'] as string;
  };
  const settle = (id: string, phases: string[], timeoutMs: number) =>
    waitForPhase(orchestrator, id, phases, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}\n${host.output().slice(-3000)}`);
    });

  beforeAll(async () => {
    host = start('apps/embedded/src/main.ts', env);
    await waitFor(() => host.output().includes('Rollgate is running'), `start:\n${host.output()}`);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  });
  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('deploys, promotes a good canary and rolls a bad one back automatically', async () => {
    const first = await deploy(V1, 'v1');
    expect(await settle(first, ['succeeded'], 60_000)).toMatchObject({ phase: 'succeeded' });
    const route = await api(`${router}/routes/checkout`, 'GET', undefined);
    expect(route.body['weights']).toMatchObject({ stable: 100 });
    const port = (route.body['endpoint'] as { port: number }).port;
    users = traffic(port, 150);

    const good = await deploy(V2, 'v2');
    const promoted = await settle(good, ['succeeded', 'rolled-back', 'paused'], 120_000);
    expect(promoted).toMatchObject({ phase: 'succeeded', version: 'v2' });
    const goodWindow = users.served.length;

    const bad = await deploy(V3, 'v3');
    const rolledBack = await settle(bad, ['succeeded', 'rolled-back', 'paused'], 120_000);
    expect(rolledBack['phase']).toBe('rolled-back');
    expect(String(rolledBack['reason'])).toMatch(/analysis FAIL at step 0/);
    const afterRollback = users.served.length;
    await new Promise((r) => setTimeout(r, 1_000));
    await users.stop();

    const badWindow = users.served.slice(goodWindow, afterRollback);
    const fromBad = badWindow.filter((s) => s.version === 'v3');
    // Only the canary's share ever reached the bad build, and only its failures reached users.
    expect(fromBad.length / badWindow.length).toBeLessThan(0.3);
    const failed = badWindow.filter((s) => s.status >= 500).length;
    expect(failed / badWindow.length).toBeLessThan(0.25 * 0.3);
    const tail = users.served.slice(afterRollback);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.every((s) => s.version === 'v2')).toBe(true);
    const finalRoute = await api(`${router}/routes/checkout`, 'GET', undefined);
    expect(finalRoute.body['weights']).toMatchObject({ stable: 100, canary: 0, baseline: 0 });

    // A crashed host leaves no orphans: its instances exit with it.
    const instances = (finalRoute.body['backends'] as { stable: { port: number }[] }).stable;
    expect(instances.length).toBe(2);
    await stop(host, 'SIGKILL');
    await waitFor(
      async () => {
        const answers = await Promise.all(
          instances.map((i) =>
            fetch(`http://127.0.0.1:${i.port}/info`).then(
              () => true,
              () => false,
            ),
          ),
        );
        return answers.every((up) => !up);
      },
      'instances to exit after the host was killed',
      10_000,
    );
  }, 300_000);
});
