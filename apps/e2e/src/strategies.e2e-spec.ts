import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  portsEnv,
  releaseView,
  start,
  stop,
  tempDir,
  waitFor,
  waitForRelease,
  type Proc,
} from './support';

const dir = tempDir('strategies');
const build = (c: string) => `sha256:${c.repeat(64)}`;
const V1 = build('4');
const V2 = build('5');
const V3 = build('6');
const V4 = build('7');
const profiles = join(dir, 'profiles.json');
// V4's deploy silently fails: its instances still run V1 (the Knight Capital case).
writeFileSync(profiles, JSON.stringify({ [V4]: { actuallyRuns: { version: 'v1', digest: V1 } } }));
const env = {
  ...portsEnv(19100),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const router = (env as Record<string, string>)['ROLLGATE_ROUTER_URL']!;

describe('rolling, blue-green and the drift guard on the embedded default', () => {
  let host: Proc;
  let token: string;

  const view = (id: string) => releaseView(orchestrator, id);
  const deploy = async (digest: string, version: string, strategy: string, plan: object = {}) => {
    const created = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'orders',
      artifact: { name: 'orders', digest },
      version,
      strategy,
      plan: { replicas: 2, ...plan },
    });
    expect(created.status).toBe(201);
    return created.body['releaseId'] as string;
  };
  const until = (id: string, done: (v: Record<string, unknown>) => boolean, what: string) =>
    waitForRelease(orchestrator, id, done, what);
  /** What the instances behind the route say they run. */
  const running = async () => {
    const route = (await api(`${router}/routes/orders`, 'GET', undefined)).body as {
      weights: Record<string, number>;
      backends: Record<string, { port: number }[]>;
    };
    const ports = Object.entries(route.weights)
      .filter(([, w]) => w > 0)
      .flatMap(([group]) => route.backends[group] ?? []);
    const infos = await Promise.all(
      ports.map(async (b) => (await fetch(`http://127.0.0.1:${b.port}/info`)).json()),
    );
    return { weights: route.weights, digests: infos.map((i) => (i as { digest: string }).digest) };
  };

  beforeAll(async () => {
    host = start('apps/embedded/src/main.ts', env);
    await waitFor(() => host.output().includes('Rollgate is running'), `start:\n${host.output()}`);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  });
  afterAll(() => stop(host));

  it('replaces every instance in a rolling release, then switches blue-green at once', async () => {
    const first = await deploy(V1, 'v1', 'rolling');
    await until(first, (v) => v['phase'] === 'succeeded', 'first release');

    const rolling = await deploy(V2, 'v2', 'rolling', { maxSurge: 1 });
    const rolled = await until(rolling, (v) => v['phase'] !== 'progressing', 'rolling release');
    expect(rolled['phase']).toBe('succeeded');
    expect((rolled['steps'] as unknown[]).length).toBe(2);
    expect(await running()).toEqual({
      weights: expect.objectContaining({ stable: 100 }),
      digests: [V2, V2],
    });

    const blueGreen = await deploy(V3, 'v3', 'blue-green', { warmSeconds: 1 });
    const switched = await until(
      blueGreen,
      (v) => v['phase'] !== 'progressing',
      'blue-green release',
    );
    expect(switched['phase']).toBe('succeeded');
    expect(await running()).toEqual({
      weights: expect.objectContaining({ stable: 100 }),
      digests: [V3, V3],
    });
  }, 180_000);

  it('holds a release whose instances run another build than intended, until it is aborted', async () => {
    const drifting = await deploy(V4, 'v4', 'canary', { canarySteps: [10] });
    const held = await until(
      drifting,
      (v) => (v['drift'] as string[]).length > 0,
      'drift to be detected',
    );
    expect(held['phase']).toBe('progressing');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await view(drifting))['step']).toBe(held['step']);
    const aborted = await api(`${orchestrator}/releases/${drifting}/abort`, 'POST', token, {
      reason: 'drift',
    });
    expect(aborted.status).toBe(200);
    await until(drifting, (v) => v['phase'] === 'aborted', 'abort');
    expect(await running()).toEqual({
      weights: expect.objectContaining({ stable: 100 }),
      digests: [V3, V3],
    });
  }, 120_000);
});
