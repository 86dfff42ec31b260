import { FlagsClient, type FlagsClientOptions } from './client';
import { fixtureFlags, fixtureRuleset, withKilled } from './testing/fixtures';
import { RulesetServer } from './testing/ruleset-server';

/**
 * The client against a real HTTP server on a real port (node:http), speaking the flags service's
 * SDK interface: fetch with ETags, server-sent events with Last-Event-ID, drops and outages.
 * Ports 23100-23129.
 */

const FAST = {
  environment: 'production',
  reconnectDelayMs: 20,
  maxReconnectDelayMs: 150,
  pollIntervalMs: 50,
  requestTimeoutMs: 1_000,
  initialTimeoutMs: 3_000,
} satisfies Partial<FlagsClientOptions>;

const servers: RulesetServer[] = [];
const clients: FlagsClient[] = [];

async function serve(port: number, options: { token?: string } = {}) {
  const server = new RulesetServer({ port, pingIntervalMs: 100, ...options }, fixtureRuleset(1));
  await server.start();
  servers.push(server);
  return server;
}

function connect(server: RulesetServer | string, options: Partial<FlagsClientOptions> = {}) {
  const url = typeof server === 'string' ? server : server.url;
  const client = new FlagsClient({ ...FAST, url, ...options });
  clients.push(client);
  return client;
}

async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

const user = { userId: 'u-1', country: 'NO' };

describe('FlagsClient against a real server', () => {
  it('fetches the ruleset, then follows the stream: a kill is served as soon as it is published', async () => {
    const server = await serve(23100);
    const client = connect(server, { project: 'shop' });
    const changes: number[] = [];
    client.on('changed', ({ version }) => changes.push(version));
    await client.start();

    expect(client.version).toBe(1);
    expect(client.isEnabled('simple', user)).toBe(true);
    expect(client.getBooleanDetails('simple', false, user)).toMatchObject({
      value: true,
      reason: 'STATIC',
      rulesetVersion: 1,
      stale: false,
    });
    await until(() => server.openStreams === 1, 'the stream to open');

    const published = Date.now();
    server.publish({ flags: withKilled(fixtureFlags, 'simple') });
    await until(() => !client.isEnabled('simple', user), 'the kill to reach the client');
    expect(Date.now() - published).toBeLessThan(200);
    expect(changes).toEqual([2]);
    expect(client.getBooleanDetails('simple', true, user)).toMatchObject({
      value: false,
      reason: 'DISABLED',
      evaluationReason: 'OFF',
      rulesetVersion: 2,
    });
    // One fetch, one stream, the project and the resume point on each.
    expect(server.requestsTo('/flags/ruleset')).toHaveLength(1);
    const [stream] = server.requestsTo('/flags/stream');
    expect(stream).toMatchObject({ project: 'shop', status: 200 });
    expect(stream!.headers['last-event-id']).toBe('1');
    expect(stream!.headers['accept']).toBe('text/event-stream');
  });

  it('resumes from the last version it has after the stream drops and gets what it missed', async () => {
    const server = await serve(23101);
    const client = connect(server);
    await client.start();
    await until(() => server.openStreams === 1, 'the stream to open');
    server.publish({ flags: fixtureFlags });
    await until(() => client.version === 2, 'version 2 on the stream');

    // The connection drops and a change is made while the client is away.
    server.dropStreams();
    server.replaceQuietly({ flags: withKilled(fixtureFlags, 'simple') });
    await until(() => client.version === 3, 'the missed version after reconnecting');

    const streams = server.requestsTo('/flags/stream');
    expect(streams.map((request) => request.headers['last-event-id'])).toEqual(['1', '2']);
    expect(server.requestsTo('/flags/ruleset')).toHaveLength(1); // the stream resumed; no re-fetch
    expect(client.isEnabled('simple', user)).toBe(false);

    // A drop with nothing missed: the server sends nothing on reconnect and nothing changes.
    const changes: number[] = [];
    client.on('changed', ({ version }) => changes.push(version));
    server.dropStreams();
    await until(() => server.requestsTo('/flags/stream').length === 3, 'the next reconnect');
    await until(() => server.openStreams === 1, 'the stream to reopen');
    expect(server.requestsTo('/flags/stream')[2]!.headers['last-event-id']).toBe('3');
    expect(changes).toEqual([]);
    expect(client.isStale()).toBe(false);
  });

  it('polls with ETags when the stream is unavailable, and still sees changes', async () => {
    const server = await serve(23102);
    server.streamEnabled = false;
    const client = connect(server);
    await client.start();
    await until(
      () => server.requestsTo('/flags/ruleset').some((request) => request.status === 304),
      'a 304 from polling',
    );
    const conditional = server.requestsTo('/flags/ruleset').filter((r) => r.status === 304);
    expect(conditional[0]!.headers['if-none-match']).toBe('"1"');
    expect(server.requestsTo('/flags/stream')[0]!.status).toBe(404);
    expect(client.isStale()).toBe(false); // polling works: degraded, not stale

    server.publish({ flags: withKilled(fixtureFlags, 'new-checkout') });
    await until(() => client.version === 2, 'the change by polling');
    expect(client.getBooleanDetails('new-checkout', true, user).reason).toBe('DISABLED');

    // The stream comes back: the client goes back to it.
    server.streamEnabled = true;
    await until(() => server.openStreams === 1, 'the stream to be used again', 4_000);
  });

  it('polls only, with ETags, when streaming is off', async () => {
    const server = await serve(23103);
    const client = connect(server, { streaming: false });
    await client.start();
    await until(() => server.requestsTo('/flags/ruleset').length >= 3, 'three polls');
    expect(server.requestsTo('/flags/stream')).toHaveLength(0);
    expect(
      server
        .requestsTo('/flags/ruleset')
        .slice(1)
        .every((r) => r.status === 304),
    ).toBe(true);
  });

  it('serves the last ruleset while the service is down, says it is stale, and recovers', async () => {
    const server = await serve(23104);
    const client = connect(server);
    const events: string[] = [];
    client.on('stale', () => events.push('stale'));
    client.on('ready', ({ recovered }) => events.push(recovered ? 'recovered' : 'ready'));
    await client.start();
    await until(() => server.openStreams === 1, 'the stream to open');

    await server.stop();
    await until(() => client.isStale(), 'the client to report itself stale');
    expect(client.status).toBe('STALE');
    expect(client.isEnabled('simple', user)).toBe(true); // still serving version 1
    expect(client.getBooleanDetails('simple', false, user)).toMatchObject({
      value: true,
      rulesetVersion: 1,
      stale: true,
    });

    // It comes back with a change made while it was down.
    server.replaceQuietly({ flags: withKilled(fixtureFlags, 'simple') });
    await server.start();
    await until(() => !client.isStale() && client.version === 2, 'recovery with the new version');
    expect(client.isEnabled('simple', user)).toBe(false);
    expect(events).toEqual(['ready', 'stale', 'recovered']);
  });

  it('reopens a stream that has gone silent (no data, no pings) and polls meanwhile, so changes still arrive', async () => {
    const server = await serve(23105);
    server.streamSilent = true;
    const client = connect(server, { streamIdleTimeoutMs: 150 });
    await client.start();
    server.publish({ flags: withKilled(fixtureFlags, 'simple') }); // never sent on the stream
    await until(() => client.version === 2, 'the change, by polling');
    expect(client.isEnabled('simple', user)).toBe(false);
    await until(() => server.requestsTo('/flags/stream').length >= 2, 'the stream to be reopened');
    expect(client.isStale()).toBe(false);
  });

  it('names the flags that changed, including flags whose rules use a changed segment', async () => {
    const segment = (values: string[]) => ({
      key: 'nordics',
      constraints: [{ attribute: 'country', operator: 'IN' as const, values }],
    });
    const segmented = {
      ...fixtureFlags[0]!,
      key: 'segmented',
      environments: {
        production: { enabled: true, rules: [{ constraints: [], segments: ['nordics'] }] },
      },
    };
    const server = await serve(23110);
    server.publish({ segments: [segment(['NO'])], flags: [...fixtureFlags, segmented] });
    const client = connect(server);
    const changes: string[][] = [];
    client.on('changed', ({ flagsChanged }) => changes.push([...flagsChanged]));
    await client.start();
    await until(() => server.openStreams === 1, 'the stream to open');
    expect(client.isEnabled('segmented', { userId: 'u', country: 'SE' })).toBe(false);

    server.publish({ segments: [segment(['NO', 'SE'])], flags: [...fixtureFlags, segmented] });
    await until(() => changes.length === 1, 'the segment change');
    expect(client.isEnabled('segmented', { userId: 'u', country: 'SE' })).toBe(true);
    server.publish({ segments: [segment(['NO', 'SE'])], flags: withKilled(fixtureFlags, 'beta') });
    await until(() => changes.length === 2, 'the flag change');
    expect(changes).toEqual([['segmented'], ['beta', 'segmented']]);
  });

  it('keeps serving the current ruleset, as stale, when the service sends an invalid one', async () => {
    const server = await serve(23106);
    const client = connect(server);
    const errors: string[] = [];
    client.on('error', (error) => errors.push(error.message));
    await client.start();
    await until(() => server.openStreams === 1, 'the stream to open');
    server.publish({
      flags: [{ ...fixtureFlags[0]!, environments: { production: { enabled: 'yes' } } }],
    } as never);
    await until(() => errors.length > 0, 'the error event');
    expect(errors[0]).toMatch(/invalid ruleset, keeping the current one: .*enabled/);
    expect(client.version).toBe(1);
    expect(client.isEnabled('simple', user)).toBe(true);
    // Out of step with the service: stale, even across a reconnect, until a valid ruleset comes.
    expect(client.isStale()).toBe(true);
    server.dropStreams();
    await until(() => server.requestsTo('/flags/stream').length === 2, 'a reconnect');
    await until(() => errors.length > 1, 'the invalid ruleset again on reconnect');
    expect(client.isStale()).toBe(true);
    server.publish({ flags: withKilled(fixtureFlags, 'simple') });
    await until(() => client.version === 3, 'the next valid ruleset');
    expect(client.isStale()).toBe(false);
    expect(client.isEnabled('simple', user)).toBe(false);
  });

  it('sends the bearer token; a refused token leaves it not ready and start() rejects', async () => {
    const server = await serve(23107, { token: 'read-token' });
    const good = connect(server, { token: 'read-token' });
    await good.start();
    expect(server.requests[0]!.headers['authorization']).toBe('Bearer read-token');

    const bad = connect(server, { token: 'wrong', initialTimeoutMs: 300 });
    const errors: string[] = [];
    bad.on('error', (error) => errors.push(error.message));
    await expect(bad.start()).rejects.toThrow(/no ruleset .* within 300 ms: .*401/);
    expect(bad.status).toBe('ERROR');
    expect(bad.getBooleanDetails('simple', true, user)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'PROVIDER_NOT_READY',
      rulesetVersion: null,
    });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('close() ends a pending start() at once, and a closed client cannot start again', async () => {
    const client = connect('http://127.0.0.1:23111', { initialTimeoutMs: 30_000 });
    const starting = client.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closedAt = Date.now();
    await client.close();
    await expect(starting).rejects.toThrow(/closed before a ruleset came/);
    expect(Date.now() - closedAt).toBeLessThan(1_000);
    expect(client.status).toBe('CLOSED');
    await expect(client.start()).rejects.toThrow(/closed/);
  });

  it('serves a bootstrap ruleset at once, as stale, until the service confirms it', async () => {
    const server = await serve(23108);
    const client = connect(server, { bootstrap: fixtureRuleset(1) });
    expect(client.isReady()).toBe(true);
    expect(client.isStale()).toBe(true);
    expect(client.isEnabled('simple', user)).toBe(true);
    const recovered = new Promise((resolve) => client.once('ready', resolve));
    await client.start();
    await recovered;
    expect(client.isStale()).toBe(false);
    expect(server.requestsTo('/flags/ruleset')[0]).toMatchObject({ status: 304 });
  });
});

describe('FlagsClient never throws', () => {
  const client = new FlagsClient({
    url: 'http://127.0.0.1:23109',
    environment: 'production',
    bootstrap: fixtureRuleset(4),
  });

  const badContexts: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'u-1'],
    ['an array', ['u-1']],
    ['a nested object', { userId: { id: 1 } }],
    ['NaN', { userId: 'u-1', age: Number.NaN }],
    ['a function', { userId: 'u-1', f: () => 1 }],
    ['a BigInt', { userId: 'u-1', n: BigInt(1) }],
    ['a symbol', { userId: 'u-1', s: Symbol('s') }],
    ['an invalid date', { userId: 'u-1', at: new Date('nope') }],
    [
      'a getter that throws',
      Object.defineProperty({}, 'userId', {
        enumerable: true,
        get() {
          throw new Error('boom');
        },
      }),
    ],
    [
      'a proxy that throws',
      new Proxy(
        {},
        {
          ownKeys() {
            throw new Error('boom');
          },
        },
      ),
    ],
  ];

  it.each(badContexts)('gives the default with INVALID_CONTEXT for %s', (_, context) => {
    expect(() => client.isEnabled('simple', context)).not.toThrow();
    expect(client.isEnabled('simple', context)).toBe(false);
    expect(client.isEnabled('simple', context, true)).toBe(true);
    const details = client.getBooleanDetails('simple', true, context);
    expect(details).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
      rulesetVersion: 4,
    });
    expect(details.errorMessage).toEqual(expect.any(String));
  });

  it('accepts dates in the context as ISO 8601 text', () => {
    const details = client.getBooleanDetails('simple', false, { userId: 'u-1', at: new Date(0) });
    expect(details).toMatchObject({ value: true, reason: 'STATIC' });
  });

  it('gives FLAG_NOT_FOUND for an unknown flag, with the ruleset version', () => {
    expect(client.isEnabled('nope', user, true)).toBe(true);
    expect(client.getStringDetails('nope', 'fallback', user)).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      rulesetVersion: 4,
    });
  });

  it('gives TYPE_MISMATCH when a flag has no value of the asked type', () => {
    expect(client.getNumberDetails('banner', 7, user)).toMatchObject({
      value: 7,
      errorCode: 'TYPE_MISMATCH',
    });
    expect(client.getStringDetails('simple', 'x', user)).toMatchObject({
      value: 'x',
      errorCode: 'TYPE_MISMATCH',
    });
    expect(client.getObjectDetails('upload-limit', {}, user)).toMatchObject({
      value: {},
      errorCode: 'TYPE_MISMATCH',
    });
  });

  it('gives TARGETING_KEY_MISSING when a variant needs a stickiness key the context lacks', () => {
    expect(client.getStringDetails('banner', 'none', { country: 'NO' })).toMatchObject({
      value: 'none',
      errorCode: 'TARGETING_KEY_MISSING',
    });
  });

  it('resolves variants with typed payloads and the reasons of each step', () => {
    expect(client.getStringDetails('banner', '', user)).toMatchObject({
      value: expect.stringMatching(/^#(0000ff|ff0000)$/),
      variant: expect.stringMatching(/^(blue|red)$/),
      reason: 'DEFAULT',
    });
    expect(client.getNumberDetails('upload-limit', 0, user)).toMatchObject({
      value: 50,
      variant: 'large',
    });
    expect(client.getObjectDetails('layout', {}, user)).toMatchObject({
      value: { columns: 3, dense: true },
      variant: 'grid',
    });
    expect(client.getBooleanDetails('beta', false, { userId: 'alice' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      evaluationReason: 'TARGET_MATCH',
    });
    expect(client.getBooleanDetails('killed', true, user)).toMatchObject({
      value: false,
      reason: 'DISABLED',
    });
    expect(client.getStringDetails('killed', 'off-default', user)).toMatchObject({
      value: 'off-default',
      reason: 'DISABLED',
    });
    expect(
      client.getBooleanDetails('new-checkout', false, { country: 'DE', userId: 'u' }),
    ).toMatchObject({
      value: false,
      reason: 'DEFAULT',
    });
  });

  it('agrees with itself on the rule + rollout flag: about half of the matching users', () => {
    let on = 0;
    for (let i = 0; i < 2_000; i++) {
      const details = client.getBooleanDetails('new-checkout', false, {
        userId: `u-${i}`,
        country: 'SE',
      });
      if (details.value) {
        on++;
        expect(details.reason).toBe('TARGETING_MATCH');
        expect(details.bucket).toBeLessThanOrEqual(50);
      }
      expect(client.isEnabled('new-checkout', { userId: `u-${i}`, country: 'SE' })).toBe(
        details.value,
      );
    }
    expect(on / 2_000).toBeGreaterThan(0.45);
    expect(on / 2_000).toBeLessThan(0.55);
  });

  it('gives PROVIDER_NOT_READY before any ruleset, and a readable error for an unknown environment', () => {
    const empty = new FlagsClient({ url: 'http://127.0.0.1:23109', environment: 'production' });
    expect(empty.isEnabled('simple', user, true)).toBe(true);
    expect(empty.getBooleanDetails('simple', false, user)).toMatchObject({
      errorCode: 'PROVIDER_NOT_READY',
      rulesetVersion: null,
    });
    expect(client.details('simple', 'boolean', false, user, 'qa')).toMatchObject({
      value: false,
      errorCode: 'GENERAL',
      errorMessage: expect.stringContaining('no environment "qa"'),
    });
  });

  it('refuses an invalid bootstrap ruleset when it is constructed', () => {
    expect(
      () =>
        new FlagsClient({
          url: 'http://127.0.0.1:23109',
          environment: 'production',
          bootstrap: { version: 1, flags: [{ key: 'x' }] } as never,
        }),
    ).toThrow(/invalid bootstrap ruleset: flags\[0\]/);
  });
});
