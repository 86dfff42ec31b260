import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { TOPICS, type EventEnvelope, type FlagUpdatedV1 } from '@rollgate/contracts';
import { FlagsClient } from '@rollgate/flags-sdk';
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
import { OutcomeStore } from './outcome-store';

/**
 * Guarded rollouts end to end inside one service: a real SDK client follows the ruleset and
 * reports outcomes with track(), the runner judges each step, and the rollout moves (or goes back
 * to 0 %) through the same event stream every other change uses. Ports 26200-26201.
 */

/**
 * An application serving traffic under the flag: every 50 ms, `perTick` requests from distinct
 * users; the flag-on cohort fails one request in `onFailEvery`, the flag-off cohort one in
 * `offFailEvery` (deterministic, so the rates are exact).
 */
function serveTraffic(
  client: FlagsClient,
  flagKey: string,
  rates: { onFailEvery: number; offFailEvery: number; perTick: number },
) {
  let user = 0;
  const seen = { on: 0, off: 0 };
  const timer = setInterval(() => {
    for (let i = 0; i < rates.perTick; i++) {
      const context = { userId: `u-${user++}` };
      const cohort = client.isEnabled(flagKey, context) ? 'on' : 'off';
      const n = ++seen[cohort];
      const every = cohort === 'on' ? rates.onFailEvery : rates.offFailEvery;
      client.track(flagKey, { ok: n % every !== 0, latencyMs: 20 + (n % 7) }, context);
    }
  }, 50);
  return { stop: () => clearInterval(timer), seen };
}

const modes: [string, Record<string, string>, number][] = [
  ['embedded log + SQLite', { ROLLGATE_MODE: 'embedded' }, 26200],
  [
    'Kafka + PostgreSQL',
    { ROLLGATE_MODE: 'production', ROLLGATE_SCHEMA_PREFIX: `grl${randomUUID().slice(0, 8)}_` },
    26201,
  ],
];

describe.each(modes)('guarded rollout on %s', (_label, env, port) => {
  let app: INestApplication;
  let runtime: ServiceRuntime;
  const tokensFile = tempTokensFile();
  const admin = issueToken(tokensFile, { subject: 'fiona', scopes: ['flags', 'read'] });
  const sdkToken = issueToken(tokensFile, { subject: 'sdk', scopes: ['read', 'ingest'] });
  const readOnly = issueToken(tokensFile, { subject: 'viewer', scopes: ['read'] });
  const project = `g${randomUUID().slice(0, 6)}`;
  const q = `?project=${project}`;
  const clients: FlagsClient[] = [];
  const http = () => request(app.getHttpServer());
  const post = (path: string, body: object) =>
    http().post(path).set('Authorization', `Bearer ${admin}`).send(body);
  const get = (path: string) => http().get(path).set('Authorization', `Bearer ${admin}`);
  const status = async (key: string) =>
    (await get(`/flags/${key}/guarded-rollout${q}&environment=production`).expect(200)).body as {
      status: string;
      step: number;
      currentRollout: number;
      decisions: { type: string; verdict?: string; reasons: string[] }[];
    };

  /** A release flag switched on at 0 % in production. */
  async function darkFlag(key: string) {
    await post('/flags', { project, key, type: 'release', owner: 'team-cart' }).expect(201);
    await http()
      .put(`/flags/${key}/environments/production${q}`)
      .set('Authorization', `Bearer ${admin}`)
      .send({ enabled: true, rollout: { percentage: 0 }, force: true, reason: 'no fleet here' })
      .expect(200);
  }

  async function sdk() {
    const client = new FlagsClient({
      url: await app.getUrl(),
      environment: 'production',
      project,
      token: sdkToken,
      outcomesFlushIntervalMs: 150,
      reconnectDelayMs: 20,
    });
    clients.push(client);
    await client.start();
    return client;
  }

  async function logged(): Promise<EventEnvelope[]> {
    const events: EventEnvelope[] = [];
    for await (const e of runtime.log.readRange({ topic: TOPICS.flags.name })) {
      if (e.event.key === project) events.push(e.event);
    }
    return events.sort((a, b) => (a.sequence ?? 0) - (b.sequence ?? 0));
  }

  beforeAll(async () => {
    const config = parseConfig({
      ...env,
      ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-grl-')),
      ROLLGATE_ORCHESTRATOR_URL: 'http://127.0.0.1:26299',
    });
    runtime = await openServiceRuntime(config, 'flags', FLAGS_PERSISTENCE);
    const moduleRef = await Test.createTestingModule({
      imports: [
        FlagsAppModule.forRoot(
          { tokenStore: new FileTokenStore(tokensFile), runtime },
          { rampTickMs: 200 },
        ),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, FLAGS_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(port, '127.0.0.1');
    await post('/flags/projects', { name: project, reason: 'test' }).expect(201);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app.close();
    const cfg = runtime.config;
    if (cfg.storage === 'postgres') await dropSchema(cfg.databaseUrl, `${cfg.schemaPrefix}flags`);
  });

  it('turns the rollout back to 0% when the flag-on cohort fails 10% of requests against 1%', async () => {
    await darkFlag('new-pricing');
    await post(`/flags/new-pricing/guarded-rollout${q}`, {
      environment: 'production',
      steps: [20, 50, 100],
      stepSeconds: 60, // only a FAIL can end this step within the test
      reason: 'pricing rewrite',
    }).expect(201);
    const client = await sdk();
    await eventually(
      () => client.getBooleanDetails('new-pricing', false, { userId: 'x' }).rulesetVersion ?? 0,
      (v) => v >= 4,
      'the SDK to see the first step',
    );
    const traffic = serveTraffic(client, 'new-pricing', {
      onFailEvery: 10,
      offFailEvery: 100,
      perTick: 200,
    });
    const started = Date.now();
    const ended = await eventually(
      () => status('new-pricing'),
      (s) => s.status !== 'running',
      'the ramp to end',
    );
    traffic.stop();
    expect(ended.status).toBe('reverted');
    expect(ended.currentRollout).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const reverted = ended.decisions.at(-1)!;
    expect(reverted).toMatchObject({ type: 'FlagRampReverted', verdict: 'FAIL' });
    expect(reverted.reasons.join(' ')).toMatch(/error-rate/);
    // Both cohorts really carried traffic: the judge compared them.
    expect(traffic.seen.on).toBeGreaterThan(100);
    expect(traffic.seen.off).toBeGreaterThan(100);
    // The rollback is an ordinary rollout change, by the service, carrying the judge's reasons.
    const events = await eventually(
      logged,
      (list) => list.some((e) => e.type === 'FlagRampReverted'),
      'the revert on the log',
    );
    const rollback = events.filter((e) => e.type === 'FlagUpdated').at(-1)!;
    const data = rollback.data as FlagUpdatedV1;
    expect(rollback.actor).toBe('service:flags');
    expect(data).toMatchObject({ change: 'rollout', after: { rollout: { percentage: 0 } } });
    expect(data.reason).toMatch(/reverted at 20%.*error-rate/);
    // SDKs follow: nobody gets the flag any more.
    await eventually(
      () => client.isEnabled('new-pricing', { userId: 'u-1' }),
      (on) => !on,
      'the SDK to serve 0%',
    );
    const versions = events.map((e) => (e.data as { rulesetVersion: number }).rulesetVersion);
    expect(versions).toEqual(events.map((e) => e.sequence));
  });

  it('advances a healthy ramp through its steps to 100%', async () => {
    await darkFlag('new-search');
    await post(`/flags/new-search/guarded-rollout${q}`, {
      environment: 'production',
      steps: [10, 50, 100],
      stepSeconds: 2,
      reason: 'search v2',
    }).expect(201);
    const client = await sdk();
    const traffic = serveTraffic(client, 'new-search', {
      onFailEvery: 100,
      offFailEvery: 100,
      perTick: 100,
    });
    const ended = await eventually(
      () => status('new-search'),
      (s) => s.status !== 'running',
      'the ramp to end',
    );
    traffic.stop();
    expect(ended.status).toBe('completed');
    expect(ended.currentRollout).toBe(100);
    expect(ended.decisions.map((d) => d.type)).toEqual([
      'FlagRampStepPassed',
      'FlagRampStepPassed',
      'FlagRampCompleted',
    ]);
    expect(ended.decisions[0]!.verdict).toBe('PASS');
  });

  it('holds on no data and says so, can be cancelled, and refuses a bad report with the field', async () => {
    await darkFlag('quiet-flag');
    await post(`/flags/quiet-flag/guarded-rollout${q}`, {
      environment: 'production',
      steps: [5, 100],
      stepSeconds: 2, // held after 2 s; rolled back (no data) only after 6 s
      reason: 'nobody uses it',
    }).expect(201);
    const held = await eventually(
      () => status('quiet-flag'),
      (s) => s.decisions.length > 0,
      'a decision',
    );
    expect(held.decisions[0]).toMatchObject({ type: 'FlagRampHeld', verdict: 'NODATA' });
    expect(held.currentRollout).toBe(5);
    await post(`/flags/quiet-flag/guarded-rollout${q}`, {
      environment: 'production',
      reason: 'again',
    }).expect(409);
    const bad = await http()
      .post(`/flags/quiet-flag/outcomes${q}`)
      .set('Authorization', `Bearer ${sdkToken}`)
      .send({ environment: 'production', cohorts: [{ cohort: 'on', requests: 1, errors: 2 }] })
      .expect(400);
    expect(JSON.stringify(bad.body)).toContain('cohorts.0.errors');
    // Reporting outcomes moves a ramp: the SDK's read token is not enough.
    const reader = await http()
      .post(`/flags/quiet-flag/outcomes${q}`)
      .set('Authorization', `Bearer ${readOnly}`)
      .send({ environment: 'production', cohorts: [{ cohort: 'on', requests: 1, errors: 0 }] })
      .expect(403);
    expect(reader.body.message).toBe('token of viewer lacks scope ingest');
    await http()
      .delete(`/flags/quiet-flag/guarded-rollout${q}&environment=production&reason=later`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
    const cancelled = await status('quiet-flag');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.currentRollout).toBe(5);
    const ignored = await http()
      .post(`/flags/quiet-flag/outcomes${q}`)
      .set('Authorization', `Bearer ${sdkToken}`)
      .send({ environment: 'production', cohorts: [{ cohort: 'on', requests: 1, errors: 0 }] })
      .expect(202);
    expect(ignored.body).toMatchObject({ recorded: false });
  });
  it('keeps reports in arrival order and prunes only old ones of steps no longer judged', async () => {
    const store = new OutcomeStore(runtime.dataSource);
    const old = new Date(Date.now() - 2 * 3_600_000);
    const report = (rampId: string, step: number, receivedAt: Date, requests: number) =>
      store.append({
        project,
        flagKey: 'pruned',
        environment: 'production',
        rampId,
        step,
        receivedAt,
        batches: [{ cohort: 'on', requests, errors: 1, latenciesMs: [12.5] }],
      });
    await report('ramp-a', 0, old, 10);
    await report('ramp-a', 1, old, 11);
    await report('ramp-a', 1, old, 12);
    await report('ramp-b', 0, new Date(), 13);
    await store.prune([{ rampId: 'ramp-a', step: 1 }], new Date(Date.now() - 3_600_000));
    expect(await store.ofStep('ramp-a', 0)).toEqual([]);
    const judged = await store.ofStep('ramp-a', 1);
    expect(judged.map((r) => r.requests)).toEqual([11, 12]);
    expect(judged[0]).toMatchObject({ cohort: 'on', errors: 1, latenciesMs: [12.5] });
    expect((await store.ofStep('ramp-b', 0)).map((r) => r.requests)).toEqual([13]);
  });
});
