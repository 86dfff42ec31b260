import { FlagsClient, type FlagsClientOptions } from './client';
import { fixtureRuleset } from './testing/fixtures';
import { RulesetServer } from './testing/ruleset-server';

/**
 * track(): outcomes counted per flag and cohort and sent to a real HTTP server (node:http) on a
 * real port. Ports 26100-26109.
 */

interface SentCohort {
  cohort: 'on' | 'off';
  requests: number;
  errors: number;
  latenciesMs?: number[];
}
interface SentBody {
  environment: string;
  cohorts: SentCohort[];
}

const servers: RulesetServer[] = [];
const clients: FlagsClient[] = [];

async function setUp(port: number, options: Partial<FlagsClientOptions> = {}) {
  const server = new RulesetServer({ port, token: 'sdk-token' }, fixtureRuleset(1));
  await server.start();
  servers.push(server);
  const client = new FlagsClient({
    url: server.url,
    environment: 'production',
    project: 'shop',
    token: 'sdk-token',
    streaming: false,
    pollIntervalMs: 60_000,
    outcomesFlushIntervalMs: 60_000,
    ...options,
  });
  clients.push(client);
  await client.start();
  return { server, client };
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const cohortOf = (body: SentBody, cohort: 'on' | 'off') =>
  body.cohorts.find((c) => c.cohort === cohort);

describe('FlagsClient.track', () => {
  it('counts requests and errors per cohort as the flag evaluates for each context', async () => {
    const { server, client } = await setUp(26100);
    let expectedOn = 0;
    let expectedOnErrors = 0;
    let expectedOffErrors = 0;
    for (let i = 0; i < 400; i++) {
      const user = { userId: `u-${i}` };
      const failed = i % 10 === 0;
      // 'half' is a 50 % rollout: the client must put each user in the cohort it evaluates to.
      const on = client.isEnabled('half', user);
      if (on) expectedOn++;
      if (on && failed) expectedOnErrors++;
      if (!on && failed) expectedOffErrors++;
      client.track('half', { ok: !failed, latencyMs: on ? 20 : 10 }, user);
    }
    client.track('no-such-flag', { ok: false }, { userId: 'u-1' });
    client.track('half', { ok: false }, 'not a context');
    client.track('half', undefined as never, { userId: 'u-1' });
    client.track('half', { ok: 'yes' } as never, { userId: 'u-1' });
    await client.flushOutcomes();

    expect(server.outcomes).toHaveLength(1);
    const sent = server.outcomes[0]!;
    expect(sent).toMatchObject({ flagKey: 'half', project: 'shop' });
    const body = sent.body as SentBody;
    expect(body.environment).toBe('production');
    expect(expectedOn).toBeGreaterThan(100);
    expect(cohortOf(body, 'on')).toMatchObject({ requests: expectedOn, errors: expectedOnErrors });
    expect(cohortOf(body, 'off')).toMatchObject({
      requests: 400 - expectedOn,
      errors: expectedOffErrors,
    });
    expect(new Set(cohortOf(body, 'on')!.latenciesMs)).toEqual(new Set([20]));
    expect(server.requestsTo('/flags/half/outcomes')[0]!.headers.authorization).toBe(
      'Bearer sdk-token',
    );
    // Counts start again after a flush; nothing new means nothing sent.
    await client.flushOutcomes();
    expect(server.outcomes).toHaveLength(1);
  });

  it('keeps a bounded, uniform sample of latencies', async () => {
    const { server, client } = await setUp(26101, { maxLatencySamples: 50 });
    for (let i = 0; i < 1000; i++)
      client.track('simple', { ok: true, latencyMs: i }, { userId: 'a' });
    await client.flushOutcomes();
    const on = cohortOf(server.outcomes[0]!.body as SentBody, 'on')!;
    expect(on.requests).toBe(1000);
    expect(on.latenciesMs).toHaveLength(50);
    // A uniform sample of 0..999 reaches well past the first 50 values.
    expect(Math.max(...on.latenciesMs!)).toBeGreaterThan(500);
  });

  it('flushes on its own every interval, and on close', async () => {
    const { server, client } = await setUp(26102, { outcomesFlushIntervalMs: 50 });
    client.track('simple', { ok: true }, { userId: 'a' });
    const deadline = Date.now() + 2_000;
    while (server.outcomes.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(server.outcomes).toHaveLength(1);
    client.track('simple', { ok: false }, { userId: 'a' });
    await client.close();
    expect(server.outcomes).toHaveLength(2);
    expect(cohortOf(server.outcomes[1]!.body as SentBody, 'on')).toMatchObject({
      requests: 1,
      errors: 1,
    });
  });

  it('never throws when the service refuses or is gone; it reports an error event', async () => {
    const { server, client } = await setUp(26103);
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.message));
    server.outcomesStatus = 500;
    client.track('simple', { ok: true }, { userId: 'a' });
    await expect(client.flushOutcomes()).resolves.toBeUndefined();
    expect(errors.some((m) => /outcomes of "simple" not sent: .*500/.test(m))).toBe(true);
    await server.stop();
    client.track('simple', { ok: true }, { userId: 'a' });
    await expect(client.flushOutcomes()).resolves.toBeUndefined();
    expect(errors.filter((m) => m.includes('not sent'))).toHaveLength(2);
  });
});
