import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { dropSchema } from '@rollgate/persistence';
import {
  FileTokenStore,
  issueToken,
  openServiceRuntime,
  parseConfig,
  setupHttpApp,
  type ServiceRuntime,
  startEventLogTransport,
} from '@rollgate/platform';
import { eventually, tempTokensFile } from '@rollgate/platform/testing';
import { FlagsAppModule, FLAGS_PERSISTENCE, FLAGS_SERVICE } from '../app.module';

/** A real HTTP server standing in for the orchestrator's fleet endpoint. */
class FleetStandIn {
  instances: { id: string; service: string; reported: { flags: string[] } | null }[] = [];
  private server: Server | undefined;
  url = '';

  async start(port: number): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/fleet/instances') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ instances: this.instances }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((done) => this.server!.listen(port, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((done) => this.server?.close(() => done()) ?? done());
  }
}

interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
}

/** A minimal SSE client over node:http, collecting events as they arrive. */
function openStream(url: string, token: string, lastEventId?: string) {
  const events: SseEvent[] = [];
  let buffer = '';
  let status = 0;
  const req = httpRequest(url, {
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'text/event-stream',
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    },
  });
  let ended = false;
  const connected = new Promise<void>((done, fail) => {
    req.on('response', (res) => {
      status = res.statusCode ?? 0;
      res.on('end', () => (ended = true));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: SseEvent = {};
          for (const line of block.split('\n')) {
            const match = /^(event|id|data): (.*)$/.exec(line);
            if (match) event[match[1] as keyof SseEvent] = match[2];
          }
          if (event.event) events.push(event);
        }
      });
      done();
    });
    req.on('error', fail);
  });
  req.end();
  return {
    events,
    connected,
    status: () => status,
    ended: () => ended,
    close: () => req.destroy(),
  };
}

const modes: [string, Record<string, string>, number][] = [
  ['embedded log + SQLite', { ROLLGATE_MODE: 'embedded' }, 22101],
  [
    'Kafka + PostgreSQL',
    { ROLLGATE_MODE: 'production', ROLLGATE_SCHEMA_PREFIX: `flg${randomUUID().slice(0, 8)}_` },
    22102,
  ],
];

describe.each(modes)('flags service on %s', (_label, env, fleetPort) => {
  let app: INestApplication;
  let runtime: ServiceRuntime;
  const fleet = new FleetStandIn();
  const tokensFile = tempTokensFile();
  const admin = issueToken(tokensFile, { subject: 'fiona', scopes: ['flags', 'read'] });
  const reader = issueToken(tokensFile, { subject: 'sdk', scopes: ['read'] });
  const cartTeam = issueToken(tokensFile, {
    subject: 'cart-ci',
    scopes: ['flags', 'read'],
    services: ['cart'],
  });
  const searchTeam = issueToken(tokensFile, {
    subject: 'search-ci',
    scopes: ['flags', 'read'],
    services: ['search'],
  });
  const config = () =>
    parseConfig({
      ...env,
      ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-flg-')),
      ROLLGATE_ORCHESTRATOR_URL: fleet.url,
    });
  let baseUrl = '';
  const http = () => request(app.getHttpServer());
  const as = (token: string) => ({
    post: (path: string, body: object = {}) =>
      http().post(path).set('Authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object = {}) =>
      http().put(path).set('Authorization', `Bearer ${token}`).send(body),
    patch: (path: string, body: object = {}) =>
      http().patch(path).set('Authorization', `Bearer ${token}`).send(body),
    get: (path: string) => http().get(path).set('Authorization', `Bearer ${token}`),
  });
  const project = `p${randomUUID().slice(0, 6)}`;
  const q = `?project=${project}`;
  const createFlag = (key: string, body: object = {}) =>
    as(admin).post('/flags', { project, key, type: 'release', owner: 'team-cart', ...body });

  /** Events of this project on the log, oldest first. */
  async function logged(): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    for await (const e of runtime.log.readRange({ topic: TOPICS.flags.name })) {
      if (e.event.key === project) events.push(e.event);
    }
    return events.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  beforeAll(async () => {
    await fleet.start(fleetPort);
    const cfg = config();
    runtime = await openServiceRuntime(cfg, 'flags', FLAGS_PERSISTENCE);
    const moduleRef = await Test.createTestingModule({
      imports: [FlagsAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, FLAGS_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
    await as(admin)
      .post('/flags/projects', { name: project, blockReleasesOnExpiredFlags: true, reason: 'test' })
      .expect(201);
  });

  afterAll(async () => {
    await app.close();
    await fleet.stop();
    const cfg = runtime.config;
    if (cfg.storage === 'postgres') {
      await dropSchema(cfg.databaseUrl, `${cfg.schemaPrefix}flags`);
    }
  });

  it('serves the ruleset with its version as ETag, 304 when unchanged, 404 for an unknown project', async () => {
    const created = await createFlag('new-cart', { reason: 'cart rewrite' }).expect(201);
    expect(created.body).toMatchObject({ project, key: 'new-cart', rulesetVersion: 2 });
    const ruleset = await as(reader).get(`/flags/ruleset${q}`).expect(200);
    expect(ruleset.headers['etag']).toBe('"2"');
    expect(ruleset.body).toMatchObject({
      version: 2,
      environments: ['development', 'staging', 'production'],
      flags: [{ key: 'new-cart', type: 'release', owner: 'team-cart' }],
    });
    await as(reader).get(`/flags/ruleset${q}`).set('If-None-Match', '"2"').expect(304);
    const unknown = await as(reader).get('/flags/ruleset?project=nope').expect(404);
    expect(unknown.body).toMatchObject({
      statusCode: 404,
      message: expect.stringContaining('nope'),
    });
    await http().get(`/flags/ruleset${q}`).expect(401);
    const changed = await as(admin)
      .post(`/flags/new-cart/rollout${q}`, { environment: 'staging', percentage: 10 })
      .expect(200);
    expect(changed.body.rulesetVersion).toBe(3);
    const fresh = await as(reader)
      .get(`/flags/ruleset${q}`)
      .set('If-None-Match', '"2"')
      .expect(200);
    expect(fresh.headers['etag']).toBe('"3"');
    // The feed that tells streams about other replicas' changes is part of health.
    const health = await http().get('/health').expect(200);
    expect(health.body.info['ruleset-feed']).toMatchObject({ status: 'up' });
  });

  it('refuses invalid rules with 400 naming the field', async () => {
    await createFlag('rules-flag').expect(201);
    const put = (body: object) =>
      as(admin).put(`/flags/rules-flag/environments/staging${q}`, { enabled: false, ...body });
    const operator = await put({
      rules: [{ constraints: [{ attribute: 'plan', operator: 'BETWEEN', values: ['a'] }] }],
    }).expect(400);
    expect(operator.body.details).toEqual([
      { field: 'rules[0].constraints[0].operator', problem: 'unknown operator "BETWEEN"' },
    ]);
    const semver = await put({
      rules: [{ constraints: [{ attribute: 'v', operator: 'SEMVER_GT', values: ['2.0'] }] }],
    }).expect(400);
    expect(semver.body.details[0].field).toBe('rules[0].constraints[0].values[0]');
    const weights = await put({ variants: [{ name: 'a', weight: 300 }] }).expect(400);
    expect(weights.body.details).toEqual([
      { field: 'variants', problem: 'weights add up to 300; they must add up to 1000' },
    ]);
    await createFlag('parent-flag').expect(201);
    await as(admin)
      .patch(`/flags/parent-flag${q}`, { prerequisites: [{ flag: 'rules-flag' }] })
      .expect(200);
    const cycle = await as(admin)
      .patch(`/flags/rules-flag${q}`, { prerequisites: [{ flag: 'parent-flag' }] })
      .expect(400);
    expect(cycle.body.details).toEqual([
      {
        field: 'prerequisites[0].flag',
        problem: 'prerequisite cycle: rules-flag → parent-flag → rules-flag',
      },
    ]);
    const badKey = await createFlag('bad key!').expect(400);
    expect(badKey.body.details[0].field).toBe('key');
    // A valid change after all those refusals goes through (and nothing invalid was stored).
    await put({ rules: [{ constraints: [] }] }).expect(200);
    const unknownEnvironment = await as(admin)
      .put(`/flags/rules-flag/environments/moon${q}`, { enabled: false })
      .expect(400);
    expect(unknownEnvironment.body.details[0].field).toBe('environment');
  });

  it('tombstones a retired name: re-creating it is refused with 409', async () => {
    await createFlag('old-promo').expect(201);
    await as(admin).post(`/flags/old-promo/retire${q}`, { reason: 'promo over' }).expect(200);
    const again = await createFlag('old-promo').expect(409);
    expect(again.body.message).toMatch(/retired .* can never be reused/);
    const ruleset = await as(reader).get(`/flags/ruleset${q}`).expect(200);
    expect(ruleset.body.flags.map((f: { key: string }) => f.key)).not.toContain('old-promo');
    const listed = await eventually(
      () => as(reader).get(`/flags${q}&retired=true`),
      (r) =>
        r.body.some((f: { key: string; retired: boolean }) => f.key === 'old-promo' && f.retired),
      'the retired flag in the read model',
    );
    expect(listed.status).toBe(200);
  });

  it('refuses to turn a flag on while a live build of a reading service does not declare it, unless forced with a reason', async () => {
    await createFlag('new-pricing').expect(201);
    fleet.instances = [
      { id: 'cart-a', service: 'cart', reported: { flags: ['new-pricing'] } },
      { id: 'cart-b', service: 'cart', reported: { flags: [] } },
      { id: 'search-a', service: 'search', reported: { flags: [] } },
    ];
    const on = (body: object = {}) =>
      as(admin).put(`/flags/new-pricing/environments/production${q}`, {
        enabled: true,
        defaultServe: true,
        reason: 'launch',
        ...body,
      });
    const refused = await on().expect(409);
    expect(refused.body.message).toContain('cart-b (cart)');
    expect(refused.body.message).not.toContain('search-a');
    expect(refused.body.details[0].instances).toEqual([
      { instanceId: 'cart-b', service: 'cart', declares: 'no' },
    ]);
    const noReason = await as(admin)
      .put(`/flags/new-pricing/environments/production${q}`, { enabled: true, force: true })
      .expect(400);
    expect(noReason.body.details[0].field).toBe('reason');
    const forced = await on({ force: true, reason: 'cart-b is draining, incident 42' }).expect(200);
    const events = await eventually(
      logged,
      (list) => list.some((e) => e.id === forced.body.eventIds[0]),
      'the forced update on the log',
    );
    const update = events.find((e) => e.id === forced.body.eventIds[0])!;
    expect(update).toMatchObject({
      type: 'FlagUpdated',
      actor: 'user:fiona',
      key: project,
      data: {
        flagKey: 'new-pricing',
        environment: 'production',
        before: { enabled: false },
        after: { enabled: true, defaultServe: true },
        reason: 'cart-b is draining, incident 42',
        forced: { reason: 'cart-b is draining, incident 42', instances: ['cart-b'] },
        rulesetVersion: forced.body.rulesetVersion,
      },
    });
    // Once every cart instance declares it, turning on another environment needs no force.
    fleet.instances = fleet.instances.map((i) =>
      i.service === 'cart' ? { ...i, reported: { flags: ['new-pricing'] } } : i,
    );
    await as(admin)
      .put(`/flags/new-pricing/environments/staging${q}`, { enabled: true, reason: 'all declare' })
      .expect(200);
  });

  it('streams the ruleset on connect, resumes from Last-Event-ID, and pushes a kill within milliseconds', async () => {
    await createFlag('checkout-v2').expect(201);
    fleet.instances = [];
    await as(admin)
      .put(`/flags/checkout-v2/environments/production${q}`, { enabled: true, defaultServe: true })
      .expect(200);
    const current = await as(reader).get(`/flags/ruleset${q}`).expect(200);
    const version = Number(JSON.parse(current.headers['etag'] as string));
    const stream = openStream(`${baseUrl}/flags/stream${q}`, reader);
    await stream.connected;
    expect(stream.status()).toBe(200);
    await eventually(
      () => stream.events.length,
      (n) => n === 1,
      'the initial ruleset event',
    );
    expect(stream.events[0]).toMatchObject({ event: 'ruleset', id: String(version) });
    expect(JSON.parse(stream.events[0]!.data!).version).toBe(version);
    const resumed = openStream(`${baseUrl}/flags/stream${q}`, reader, String(version));
    await resumed.connected;
    const started = Date.now();
    const killed = await as(admin)
      .post(`/flags/checkout-v2/kill${q}`, { environment: 'production', reason: 'errors up' })
      .expect(200);
    await eventually(
      () => stream.events.length,
      (n) => n === 2,
      'the kill on the stream',
    );
    const pushedWithinMs = Date.now() - started;
    expect(pushedWithinMs).toBeLessThan(1_000);
    const pushed = JSON.parse(stream.events[1]!.data!) as {
      version: number;
      flags: { key: string; environments: Record<string, { enabled: boolean }> }[];
    };
    expect(pushed.version).toBe(killed.body.rulesetVersion);
    expect(stream.events[1]!.id).toBe(String(killed.body.rulesetVersion));
    expect(
      pushed.flags.find((f) => f.key === 'checkout-v2')!.environments['production']!.enabled,
    ).toBe(false);
    // The resumed stream skipped the version it already had and got only the kill.
    await eventually(
      () => resumed.events.length,
      (n) => n >= 1,
      'the kill on the resumed stream',
    );
    expect(resumed.events.map((e) => e.id)).toEqual([String(killed.body.rulesetVersion)]);
    stream.close();
    resumed.close();
    const evaluated = await as(reader)
      .post(`/flags/checkout-v2/evaluate${q}`, {
        environment: 'production',
        context: { userId: 'u1' },
      })
      .expect(200);
    expect(evaluated.body).toMatchObject({
      value: false,
      reason: 'OFF',
      rulesetVersion: killed.body.rulesetVersion,
    });
  });

  it('evaluates on the server with the value, the reason and the ruleset version', async () => {
    await createFlag('beta-search').expect(201);
    await as(admin)
      .put(`/flags/beta-search/environments/staging${q}`, {
        enabled: true,
        rules: [
          { id: 'norway', constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] },
        ],
      })
      .expect(200);
    const hit = await as(reader)
      .post(`/flags/beta-search/evaluate${q}`, {
        environment: 'staging',
        context: { country: 'NO' },
      })
      .expect(200);
    expect(hit.body).toMatchObject({ value: true, reason: 'RULE_MATCH', ruleId: 'norway' });
    expect(hit.body.explanation).toContain('country IN');
    const miss = await as(reader)
      .post(`/flags/beta-search/evaluate${q}`, {
        environment: 'staging',
        context: { country: 'SE' },
      })
      .expect(200);
    expect(miss.body).toMatchObject({ value: false, reason: 'DEFAULT' });
  });

  it('defines reusable segments that rules refer to, refusing a bad constraint with its field', async () => {
    const bad = await as(admin)
      .put(`/flags/segments/beta-testers${q}`, {
        constraints: [{ attribute: 'plan', operator: 'LIKE', values: ['beta'] }],
      })
      .expect(400);
    expect(bad.body.details).toEqual([
      { field: 'constraints[0].operator', problem: 'unknown operator "LIKE"' },
    ]);
    await as(admin)
      .put(`/flags/segments/beta-testers${q}`, {
        constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
        reason: 'beta programme',
      })
      .expect(200);
    await createFlag('segment-flag').expect(201);
    await as(admin)
      .put(`/flags/segment-flag/environments/staging${q}`, {
        enabled: true,
        rules: [{ constraints: [], segments: ['beta-testers'] }],
      })
      .expect(200);
    const hit = await as(reader)
      .post(`/flags/segment-flag/evaluate${q}`, {
        environment: 'staging',
        context: { plan: 'beta' },
      })
      .expect(200);
    expect(hit.body).toMatchObject({ value: true, reason: 'RULE_MATCH' });
    expect(hit.body.explanation).toContain('segment "beta-testers"');
    const ruleset = await as(reader).get(`/flags/ruleset${q}`).expect(200);
    expect(ruleset.body.segments).toEqual([
      {
        key: 'beta-testers',
        constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
      },
    ]);
  });

  it('lists expired flags as stale, raises their events once, and blocks releases of services that read them', async () => {
    const expiresAt = new Date(Date.now() + 1_000).toISOString();
    await createFlag('short-lived', { expiresAt }).expect(201);
    const before = await as(reader)
      .get(`/flags/blocking?service=cart&flags=short-lived`)
      .expect(200);
    expect(before.body.blocked).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const stale = await eventually(
      () => as(reader).get(`/flags/stale?project=${project}`),
      (r) => r.body.some((f: { key: string }) => f.key === 'short-lived'),
      'the expired flag in the stale list',
    );
    expect(stale.body.find((f: { key: string }) => f.key === 'short-lived')).toMatchObject({
      expired: true,
      owner: 'team-cart',
    });
    await as(reader).get(`/flags/stale?project=${project}`).expect(200);
    const debt = (await logged()).filter(
      (e) =>
        e.type === 'FlagDebtDetected' && (e.data as { flagKey: string }).flagKey === 'short-lived',
    );
    expect(debt.map((e) => (e.data as { condition: string }).condition).sort()).toEqual([
      'expired',
      'potentially-stale',
    ]);
    const blocked = await as(reader)
      .get(`/flags/blocking?service=cart&flags=short-lived`)
      .expect(200);
    expect(blocked.body).toMatchObject({
      blocked: true,
      flags: [{ project, key: 'short-lived', expired: true }],
    });
    await as(admin)
      .post(`/flags/short-lived/extend${q}`, {
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
        reason: 'one more week',
      })
      .expect(200);
    const unblocked = await as(reader)
      .get(`/flags/blocking?service=cart&flags=short-lived`)
      .expect(200);
    expect(unblocked.body.blocked).toBe(false);
  });

  it('lets a service-limited token change only the projects its services own', async () => {
    const owned = `own${randomUUID().slice(0, 6)}`;
    const oq = `?project=${owned}`;
    // A limited token must name owners it can touch, and may not leave a project ownerless.
    const ownerless = await as(cartTeam).post('/flags/projects', { name: owned }).expect(403);
    expect(ownerless.body.message).toMatch(/must name the project's owner services/);
    await as(cartTeam)
      .post('/flags/projects', { name: owned, services: ['search'] })
      .expect(403);
    await as(cartTeam)
      .post('/flags/projects', { name: owned, services: ['cart'] })
      .expect(201);
    await as(cartTeam)
      .post('/flags', { project: owned, key: 'cart-v2', type: 'release', owner: 'team-cart' })
      .expect(201);

    const denied = [
      as(searchTeam).post('/flags', {
        project: owned,
        key: 'hijack',
        type: 'release',
        owner: 'team-search',
      }),
      as(searchTeam).post(`/flags/cart-v2/kill${oq}`, {
        environment: 'production',
        reason: 'not mine',
      }),
      as(searchTeam).post(`/flags/cart-v2/rollout${oq}`, {
        environment: 'production',
        percentage: 50,
      }),
      as(searchTeam).put(`/flags/cart-v2/environments/production${oq}`, { enabled: false }),
      as(searchTeam).patch(`/flags/cart-v2${oq}`, { description: 'mine now' }),
      as(searchTeam).put(`/flags/segments/staff${oq}`, {
        constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
      }),
      as(searchTeam).post(`/flags/cart-v2/retire${oq}`, { reason: 'gone' }),
      as(searchTeam).post('/flags/projects', { name: owned, services: ['search'] }),
      // The default project has no owners: only a token for every service changes it.
      as(cartTeam).post('/flags', {
        key: `d${randomUUID().slice(0, 6)}`,
        type: 'release',
        owner: 'x',
      }),
    ];
    for (const response of await Promise.all(denied)) {
      expect([response.status, response.body.message]).toEqual([403, expect.any(String)]);
    }
    const message = (await denied[1]!).body.message;
    expect(message).toBe(`project "${owned}" is owned by cart; this token may touch search`);

    await as(cartTeam)
      .post(`/flags/cart-v2/kill${oq}`, { environment: 'production', reason: 'mine' })
      .expect(200);
    // An unlimited token keeps the owners when it changes other settings, and may hand them on.
    await as(admin)
      .post('/flags/projects', { name: owned, blockReleasesOnExpiredFlags: true })
      .expect(201);
    await as(cartTeam).patch(`/flags/cart-v2${oq}`, { description: 'still mine' }).expect(200);
  });

  it('lists the projects with their settings and live flag counts to any read token', async () => {
    interface Listed {
      name: string;
      environments: string[];
      services: string[];
      blockReleasesOnExpiredFlags: boolean;
      flags: number;
      version: number;
    }
    const live = (await as(reader).get(`/flags${q}`).expect(200)).body as unknown[];
    // The list is the read model: it catches up with the log.
    const listed = await eventually(
      async () => (await as(reader).get('/flags/projects').expect(200)).body as Listed[],
      (list) =>
        list.find((p) => p.name === project)?.flags === live.length &&
        list.some((p) => p.services.includes('cart')),
      'the projects in the read model',
    );
    const names = listed.map((p) => p.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
    expect(listed.find((p) => p.name === 'default')).toMatchObject({
      environments: ['development', 'staging', 'production'],
      services: [],
    });
    expect(listed.find((p) => p.name === project)).toMatchObject({
      blockReleasesOnExpiredFlags: true,
      flags: live.length,
      version: expect.any(Number),
    });
    expect(listed.find((p) => p.services.includes('cart'))!.name).toMatch(/^own/);
    await http().get('/flags/projects').expect(401);
    // Documented like its neighbours, with the scope it needs.
    const docs = await http().get('/docs-json').expect(200);
    expect(docs.body.paths['/flags/projects'].get['x-rollgate-scopes']).toEqual(['read']);
  });

  it('puts every change on the log with before, after, actor, reason and the resulting version', async () => {
    const events = await eventually(
      logged,
      (list) => list.some((e) => e.type === 'FlagKilled'),
      'flag events on the log',
    );
    const versions = events.map((e) => (e.data as { rulesetVersion: number }).rulesetVersion);
    expect(versions).toEqual(events.map((e) => e.sequence));
    const kill = events.find((e) => e.type === 'FlagKilled')!;
    expect(kill).toMatchObject({
      actor: 'user:fiona',
      correlationId: `${project}/checkout-v2`,
      data: { environment: 'production', before: { enabled: true }, reason: 'errors up' },
    });
    const retired = events.find((e) => e.type === 'FlagRetired')!;
    expect(retired.data).toMatchObject({ flagKey: 'old-promo', reason: 'promo over' });
  });
});

describe('flags service with two replicas on Kafka + PostgreSQL', () => {
  const prefix = `flg${randomUUID().slice(0, 8)}_`;
  const tokensFile = tempTokensFile();
  const admin = issueToken(tokensFile, { subject: 'fiona', scopes: ['flags', 'read'] });
  const apps: INestApplication[] = [];
  let schemaUrl = '';

  async function replica(): Promise<{ app: INestApplication; url: string }> {
    const config = parseConfig({
      ROLLGATE_MODE: 'production',
      ROLLGATE_SCHEMA_PREFIX: prefix,
      ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-flg-')),
      ROLLGATE_ORCHESTRATOR_URL: 'http://127.0.0.1:22199',
    });
    schemaUrl = config.databaseUrl;
    const runtime = await openServiceRuntime(config, 'flags', FLAGS_PERSISTENCE);
    const moduleRef = await Test.createTestingModule({
      imports: [FlagsAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, FLAGS_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    apps.push(app);
    return { app, url: await app.getUrl() };
  }

  afterAll(async () => {
    for (const app of apps) await app.close();
    if (schemaUrl) await dropSchema(schemaUrl, `${prefix}flags`);
  });

  it('pushes a kill made on one replica to a stream held by the other, through the log', async () => {
    const writer = await replica();
    const reader = await replica();
    const call = (method: 'post' | 'put', path: string, body: object) => {
      const server = request(writer.app.getHttpServer());
      const test = method === 'post' ? server.post(path) : server.put(path);
      return test.set('Authorization', `Bearer ${admin}`).send(body);
    };
    await call('post', '/flags', { key: 'edge-cache', type: 'kill-switch', owner: 'sre' }).expect(
      201,
    );
    await call('put', '/flags/edge-cache/environments/production', {
      enabled: true,
      defaultServe: true,
      force: true,
      reason: 'no fleet in this test',
    }).expect(200);
    const stream = openStream(`${reader.url}/flags/stream`, admin);
    await stream.connected;
    await eventually(
      () => stream.events.length,
      (n) => n === 1,
      'the initial ruleset',
    );
    expect(stream.events[0]!.id).toBe('2');
    const killed = await call('post', '/flags/edge-cache/kill', {
      environment: 'production',
      reason: 'cache poisoning',
    }).expect(200);
    const started = Date.now();
    await eventually(
      () => stream.events.length,
      (n) => n === 2,
      'the kill via the other replica',
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(stream.events[1]!.id).toBe(String(killed.body.rulesetVersion));
    const ruleset = JSON.parse(stream.events[1]!.data!) as {
      flags: { environments: Record<string, { enabled: boolean }> }[];
    };
    expect(ruleset.flags[0]!.environments['production']!.enabled).toBe(false);
    stream.close();
  });

  it('ends its open streams when it stops, so stopping never waits on a connected SDK', async () => {
    const { app, url } = await replica();
    const stream = openStream(`${url}/flags/stream`, admin);
    await stream.connected;
    await eventually(
      () => stream.events.length,
      (n) => n === 1,
      'the initial ruleset',
    );
    const stopping = Date.now();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(Date.now() - stopping).toBeLessThan(3_000);
    await eventually(
      () => stream.ended(),
      (ended) => ended,
      'the stream to end',
    );
  });
});
