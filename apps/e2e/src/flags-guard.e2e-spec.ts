import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  cli,
  digest,
  portsEnv,
  start,
  stop,
  tempDir,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const dir = tempDir('flags-guard');
const env = {
  ...portsEnv(22300),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const flags = (env as Record<string, string>)['ROLLGATE_FLAGS_URL']!;

interface Instance {
  id: string;
  service: string;
  group: string;
  reported: { flags: string[] } | null;
}

async function put(url: string, token: string, body: unknown) {
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('flag enablement guard on the embedded default, with the real orchestrator and local fleet', () => {
  let host: Proc;
  let token: string;

  beforeAll(async () => {
    host = start('apps/embedded/src/main.ts', env);
    await waitFor(() => host.output().includes('Rollgate is running'), `start:\n${host.output()}`);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  });
  afterAll(() => stop(host));

  it('refuses to turn a flag on while a live build does not declare it (7 of 8 servers), unless forced with a reason', async () => {
    const created = await api(`${flags}/flags`, 'POST', token, {
      key: 'new-cart',
      type: 'release',
      owner: 'team-cart',
    });
    expect(created.status).toBe(201);

    // v1 runs on two instances and knows nothing of the flag.
    const first = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'cart',
      artifact: { name: 'cart', digest: digest('1') },
      version: 'v1',
      plan: { replicas: 2 },
      first: true,
    });
    expect(first.status).toBe(201);
    await waitForPhase(orchestrator, first.body['releaseId'] as string, ['succeeded']);

    // v2 reads the flag; its canary runs next to the v1 instances.
    const second = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'cart',
      artifact: { name: 'cart', digest: digest('2'), flags: ['new-cart'] },
      version: 'v2',
      strategy: 'canary',
      plan: { replicas: 2, canarySteps: [20], stepSeconds: 600 },
    });
    expect(second.status).toBe(201);
    let instances: Instance[] = [];
    await waitFor(async () => {
      const fleet = await api(`${orchestrator}/fleet/instances?service=cart`, 'GET', undefined);
      instances = (fleet.body['instances'] as Instance[]) ?? [];
      return instances.some((i) => i.reported?.flags.includes('new-cart'));
    }, 'the v2 canary to report the flag');
    const undeclared = instances
      .filter((i) => !i.reported?.flags.includes('new-cart'))
      .map((i) => i.id);
    expect(undeclared.length).toBeGreaterThanOrEqual(1);

    const refused = await put(`${flags}/flags/new-cart/environments/production`, token, {
      enabled: true,
      defaultServe: true,
      reason: 'launch',
    });
    expect(refused.status).toBe(409);
    for (const id of undeclared) expect(String(refused.body['message'])).toContain(id);

    // The CLI says the same, in words, and exits 1.
    const viaCli = await cli(
      ['--token', token, 'flags', 'update', 'new-cart', '-e', 'production', '--on'],
      env,
    );
    expect(viaCli.code).toBe(1);
    expect(viaCli.output).toContain('error (409)');
    expect(viaCli.output).toContain(undeclared[0]!);

    const forced = await put(`${flags}/flags/new-cart/environments/production`, token, {
      enabled: true,
      defaultServe: true,
      force: true,
      reason: 'v1 instances serve no cart traffic (incident 7)',
    });
    expect(forced.status).toBe(200);
    const ruleset = await fetch(`${flags}/flags/ruleset`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await ruleset.json()) as {
      version: number;
      flags: { key: string; environments: Record<string, { enabled: boolean }> }[];
    };
    expect(ruleset.headers.get('etag')).toBe(`"${body.version}"`);
    expect(body.flags.find((f) => f.key === 'new-cart')!.environments['production']!.enabled).toBe(
      true,
    );

    const abort = await api(
      `${orchestrator}/releases/${second.body['releaseId'] as string}/abort`,
      'POST',
      token,
      { reason: 'test over' },
    );
    expect(abort.status).toBe(200);
  }, 180_000);

  it('never lets a retired flag name be used again', async () => {
    const body = { key: 'old-pricing', type: 'release', owner: 'growth' };
    expect((await api(`${flags}/flags`, 'POST', token, body)).status).toBe(201);
    const retired = await api(`${flags}/flags/old-pricing/retire`, 'POST', token, {
      reason: 'replaced by new-pricing',
    });
    expect(retired.status).toBe(200);
    const again = await cli(
      ['--token', token, 'flags', 'create', 'old-pricing', '-t', 'release', '-o', 'growth'],
      env,
    );
    expect(again.code).toBe(1);
    expect(again.output).toContain('error (409)');
    expect(again.output).toContain('can never be reused');
  }, 60_000);

  it('blocks a release whose build reads an expired flag, in a project that asks for it, until it is extended', async () => {
    const project = await api(`${flags}/flags/projects`, 'POST', token, {
      name: 'shop',
      blockReleasesOnExpiredFlags: true,
    });
    expect(project.status).toBe(201);
    const expiresAt = new Date(Date.now() + 1_000).toISOString();
    const flag = {
      project: 'shop',
      key: 'summer-sale',
      type: 'release',
      owner: 'growth',
      expiresAt,
    };
    expect((await api(`${flags}/flags`, 'POST', token, flag)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const release = () =>
      api(`${orchestrator}/releases`, 'POST', token, {
        service: 'shop-web',
        artifact: { name: 'shop-web', digest: digest('5'), flags: ['summer-sale'] },
        first: true,
      });
    const blocked = await release();
    expect(blocked.status).toBe(409);
    expect(String(blocked.body['message'])).toContain('shop/summer-sale');
    const extended = await api(`${flags}/flags/summer-sale/extend?project=shop`, 'POST', token, {
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      reason: 'sale extended a week',
    });
    expect(extended.status).toBe(200);
    const allowed = await release();
    expect(allowed.status).toBe(201);
    await api(
      `${orchestrator}/releases/${allowed.body['releaseId'] as string}/abort`,
      'POST',
      token,
      {
        reason: 'test over',
      },
    );
  }, 60_000);
});
