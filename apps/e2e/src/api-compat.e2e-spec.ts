import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  cli,
  digest,
  portsEnv,
  releaseTimeline,
  releaseView,
  startEmbeddedHost,
  stop,
  tempDir,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const dir = tempDir('api-compat');
const env = {
  ...portsEnv(24100),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;

/** The orders API: GET /orders/{id} answers the given response properties. */
const ordersApi = (properties: Record<string, unknown>) => ({
  openapi: '3.0.3',
  info: { title: 'orders', version: '1' },
  paths: {
    '/orders/{id}': {
      get: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'an order',
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/Order' } },
            },
          },
        },
      },
    },
  },
  components: { schemas: { Order: { type: 'object', properties } } },
});
const withTotal = ordersApi({ id: { type: 'string' }, total: { type: 'number' } });
const withoutTotal = ordersApi({ id: { type: 'string' } });

/** checkout 1.4 as a Pact file: it reads id and total of an order. */
const pactReadingTotal = {
  consumer: { name: 'checkout' },
  provider: { name: 'orders' },
  interactions: [
    {
      description: 'an order',
      request: { method: 'GET', path: '/orders/42' },
      response: { status: 200, body: { id: '42', total: 12.5 } },
    },
  ],
  metadata: { pactSpecification: { version: '3.0.0' } },
};
/** checkout 1.5, in Rollgate's own format: it only reads the id. */
const readingIdOnly = {
  uses: [{ service: 'orders', method: 'GET', path: '/orders/{id}', reads: ['id'] }],
};

const REMOVES_TOTAL =
  'orders 2.0 removes GET /orders/{id} response field "total", read by checkout 1.4 running on 1 instance';

describe('API compatibility gate on the embedded default, with two real sample services', () => {
  let host: Proc;
  let token: string;

  beforeAll(async () => {
    host = await startEmbeddedHost(env);
    token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
  });
  afterAll(() => stop(host));

  const release = (body: Record<string, unknown>) =>
    api(`${orchestrator}/releases`, 'POST', token, {
      strategy: 'rolling',
      plan: { replicas: 1 },
      ...body,
    });
  const succeeds = async (answer: { status: number; body: Record<string, unknown> }) => {
    expect(answer.status).toBe(201);
    await waitForPhase(orchestrator, answer.body['releaseId'] as string, ['succeeded']);
    return answer.body['releaseId'] as string;
  };
  const artifact = (name: string, c: string, api: Record<string, unknown>) => ({
    name,
    digest: digest(c),
    api,
  });

  it('refuses a provider that drops a field a live consumer reads, until that consumer is gone; force is recorded', async () => {
    await succeeds(
      await release({
        service: 'orders',
        version: '1.0',
        artifact: artifact('orders', '1', { provides: withTotal }),
        first: true,
      }),
    );
    await succeeds(
      await release({
        service: 'checkout',
        version: '1.4',
        artifact: artifact('checkout', '2', { consumes: pactReadingTotal }),
        first: true,
      }),
    );
    // Instances report the digests of what they declare.
    const fleet = await api(`${orchestrator}/fleet/instances?service=checkout`, 'GET', undefined);
    const reported = (fleet.body['instances'] as { reported: { api: { consumes: string } } }[])[0]!
      .reported.api.consumes;
    expect(reported).toMatch(/^sha256:[a-f0-9]{64}$/);
    const stored = await api(`${orchestrator}/api-documents/${reported}`, 'GET', undefined);
    expect(stored.body['format']).toBe('pact');

    // Hostile or broken documents are 400s naming the field: no remote $ref is ever fetched.
    const remote = await release({
      service: 'orders',
      artifact: artifact('orders', '9', {
        provides: {
          ...withTotal,
          components: { schemas: { Order: { $ref: 'http://169.254.169.254/x' } } },
        },
      }),
    });
    expect(remote.status).toBe(400);
    expect(remote.body['details']).toEqual([
      {
        field: 'artifact.api.provides.components.schemas.Order.$ref',
        problem: 'only internal references ("#/…") are resolved',
      },
    ]);
    const badPact = await release({
      service: 'checkout',
      artifact: artifact('checkout', '9', {
        consumes: { ...pactReadingTotal, provider: { name: 'Orders!' } },
      }),
    });
    expect(badPact.status).toBe(400);
    expect(JSON.stringify(badPact.body['details'])).toContain(
      'artifact.api.consumes.provider.name',
    );

    const ordersV2 = {
      service: 'orders',
      version: '2.0',
      artifact: artifact('orders', '3', { provides: withoutTotal }),
    };
    const refused = await release(ordersV2);
    expect(refused.status).toBe(409);
    expect(String(refused.body['message'])).toContain(REMOVES_TOTAL);

    // CI asks the same question without releasing: exit 1, and JSON with --json.
    const file = join(dir, 'orders-v2.json');
    writeFileSync(file, JSON.stringify(withoutTotal));
    const args = ['--token', token, 'compat', 'check', '-s', 'orders', '--provides', file];
    const check = await cli([...args, '--version-label', '2.0'], env);
    expect(check.code).toBe(1);
    expect(check.output).toContain(REMOVES_TOTAL);
    const json = await cli([...args, '--version-label', '2.0', '--json'], env);
    expect(json.code).toBe(1);
    const body = JSON.parse(json.output) as { compatible: boolean; findings: string[] };
    expect(body).toMatchObject({ compatible: false, findings: [REMOVES_TOTAL] });
    const fine = join(dir, 'orders-v1.json');
    writeFileSync(fine, JSON.stringify(withTotal));
    const compatible = await cli(
      ['--token', token, 'compat', 'check', '-s', 'orders', '--provides', fine],
      env,
    );
    expect(compatible.code).toBe(0);

    // checkout 1.5 no longer reads the total; once it replaced 1.4, orders 2.0 goes through.
    await succeeds(
      await release({
        service: 'checkout',
        version: '1.5',
        artifact: artifact('checkout', '4', { consumes: readingIdOnly }),
      }),
    );
    const accepted = await succeeds(await release(ordersV2));
    expect((await releaseView(orchestrator, accepted))['apiGate']).toMatchObject({
      verdict: 'compatible',
      findings: [],
    });

    // checkout 1.6 reads the total again, which no live orders returns: refused, then forced.
    const checkoutV16 = {
      service: 'checkout',
      version: '1.6',
      artifact: artifact('checkout', '5', { consumes: pactReadingTotal }),
    };
    const again = await release(checkoutV16);
    expect(again.status).toBe(409);
    expect(String(again.body['message'])).toContain(
      'checkout 1.6 reads GET /orders/{id} response field "total", which orders 2.0 (running on 1 instance) does not return',
    );
    const noReason = await release({ ...checkoutV16, force: true });
    expect(noReason.status).toBe(400);
    expect(noReason.body['details']).toEqual([
      { field: 'reason', problem: 'force needs a reason: it is recorded in the log' },
    ]);
    const why = 'orders 2.1 with the total again ships within the hour (CHG-17)';
    const forced = await succeeds(await release({ ...checkoutV16, force: true, reason: why }));
    const timeline = await releaseTimeline(orchestrator, token, forced);
    const override = timeline.find((e) => e.type === 'ReleaseApiGateOverridden');
    expect(override).toMatchObject({ reason: why, details: { forcedBy: 'user:local-admin' } });
    // The command line shows the verdict; the replay from the log shows who forced it and why.
    const shown = await cli(['release', forced], env);
    expect(shown.output).toContain(`api     BREAKING, forced by user:local-admin: ${why}`);
    const replay = await cli(['replay', '--release', forced], env);
    expect(replay.code).toBe(0);
    expect(replay.output).toContain('API gate overridden by user:local-admin');
    expect(replay.output).toContain(why);
  }, 120_000);

  it('holds a release under the hold policy until the consumer versions it breaks are gone', async () => {
    // checkout 1.6 (forced above) reads total; orders 2.1 drops it again, with policy hold.
    const held = await release({
      service: 'orders',
      version: '2.1',
      artifact: artifact('orders', '6', { provides: withoutTotal }),
      apiPolicy: 'hold',
    });
    expect(held.status).toBe(201);
    const id = held.body['releaseId'] as string;
    await new Promise((r) => setTimeout(r, 1_500));
    const waiting = await releaseView(orchestrator, id);
    expect(waiting).toMatchObject({
      phase: 'progressing',
      step: -1,
      apiGate: { verdict: 'breaking', policy: 'hold' },
    });
    await succeeds(
      await release({
        service: 'checkout',
        version: '1.7',
        artifact: artifact('checkout', '7', { consumes: readingIdOnly }),
      }),
    );
    await waitFor(
      async () => (await releaseView(orchestrator, id))['phase'] === 'succeeded',
      'the held orders release to go on once checkout 1.6 is gone',
      30_000,
    );
    const timeline = await releaseTimeline(orchestrator, token, id);
    expect(
      timeline.filter((e) => e.type === 'ReleaseApiGateChecked').map((e) => e.details['verdict']),
    ).toEqual(['breaking', 'compatible']);
  }, 90_000);

  it('checks a rollback: aborting a provider must not break a consumer that shipped against it', async () => {
    // orders 2.2 brings the total back; it is paused mid-canary while checkout 1.8 starts reading it.
    const provider = await release({
      service: 'orders',
      version: '2.2',
      strategy: 'canary',
      plan: { replicas: 1, canarySteps: [50], stepSeconds: 60 },
      artifact: artifact('orders', '8', { provides: withTotal }),
    });
    expect(provider.status).toBe(201);
    const id = provider.body['releaseId'] as string;
    const steer = (action: string, body: Record<string, unknown>) =>
      api(`${orchestrator}/releases/${id}/${action}`, 'POST', token, body);
    // Before its first step nothing of 2.2 runs, and an abort has nothing to roll back.
    await waitFor(
      async () => (await releaseView(orchestrator, id))['step'] === 0,
      'the orders 2.2 canary to run',
      30_000,
    );
    expect((await steer('pause', { reason: 'hold for checkout 1.8' })).status).toBe(200);
    await succeeds(
      await release({
        service: 'checkout',
        version: '1.8',
        artifact: artifact('checkout', 'a', { consumes: pactReadingTotal }),
        force: true,
        reason: 'orders 2.2 returns the total',
      }),
    );

    // The stable orders 2.1 does not return the total checkout 1.8 reads: refused, then forced.
    const refused = await steer('abort', { reason: 'try the rollback' });
    expect(refused.status).toBe(409);
    expect(String(refused.body['message'])).toContain(
      `rollback of ${id} refused by the API compatibility gate`,
    );
    expect(String(refused.body['message'])).toContain('read by checkout 1.8');
    expect((await releaseView(orchestrator, id))['phase']).toBe('paused');
    const why = 'checkout 1.8 is rolled back next (INC-7)';
    expect((await steer('abort', { reason: why, force: true })).status).toBe(200);
    await waitForPhase(orchestrator, id, ['aborted']);
    const timeline = await releaseTimeline(orchestrator, token, id);
    expect(timeline.find((e) => e.type === 'ReleaseApiGateOverridden')).toMatchObject({
      reason: why,
    });
  }, 90_000);
});
