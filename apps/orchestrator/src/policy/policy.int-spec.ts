import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import {
  FileTokenStore,
  issueToken,
  setupHttpApp,
  startEventLogTransport,
  type ServiceRuntime,
} from '@rollgate/platform';
import {
  createTestDatabase,
  eventually,
  openTestRuntime,
  tempTokensFile,
} from '@rollgate/platform/testing';
import { serviceStreamId } from '@rollgate/releases';
import { ANALYSIS_PERSISTENCE, AnalysisAppModule } from '@rollgate/app-analysis';
import {
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
  OrchestratorAppModule,
} from '../app.module';
import { servicePolicyStream } from './policy.service';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

const yamlPolicy = (service: string, stepSeconds = 120) => `
apiVersion: rollgate/v1
kind: ServicePolicy
service: ${service}
owners: [team-payments@example.com]
release:
  strategy: canary
  plan: { steps: [10, 20], stepSeconds: ${stepSeconds}, replicas: 3 }
analysis:
  canaryConfig: shared-http
flags:
  expiredBlock: false
lowTraffic:
  raiseShare: { maxPercent: 40 }
  thresholdFallback: confirm
`;

const inlineConfig = (prometheus: string) => ({
  apiVersion: 'rollgate/v1',
  kind: 'CanaryConfig',
  metrics: [{ name: 'checkouts', query: { prometheus }, direction: 'decrease' }],
  judge: { name: 'threshold' },
});

/**
 * The orchestrator on real PostgreSQL and the embedded log, with a real analysis service (its own
 * database) for inline canary configs: the policy API forwards the caller's token to it.
 */
describe('service policy API on PostgreSQL and the embedded log', () => {
  let orchestrator: INestApplication;
  let analysis: INestApplication;
  let runtime: ServiceRuntime;
  const drops: (() => Promise<void>)[] = [];
  const tokensFile = tempTokensFile();
  const deployer = issueToken(tokensFile, { subject: 'deployer', scopes: ['deploy', 'read'] });
  const reader = issueToken(tokensFile, { subject: 'viewer', scopes: ['read'] });
  const narrow = issueToken(tokensFile, {
    subject: 'payments-ci',
    scopes: ['deploy', 'read'],
    services: ['payments'],
  });
  const http = () => request(orchestrator.getHttpServer());
  const apply = (service: string, body: unknown, token = deployer, path = 'policy') =>
    http()
      .post(`/services/${service}/${path}`)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);
  const get = (path: string) => http().get(path).set('Authorization', `Bearer ${reader}`);
  const policyEvents = async (service: string) =>
    (await runtime.eventStore.load(servicePolicyStream(service))).filter(
      (e) => e.type === 'ServicePolicyChanged',
    );
  const unique = (name: string) => `${name}-${randomUUID().slice(0, 6)}`;

  beforeAll(async () => {
    const [analysisDb, orchestratorDb] = [
      await createTestDatabase('policy_an_'),
      await createTestDatabase('policy_or_'),
    ];
    drops.push(analysisDb.drop, orchestratorDb.drop);
    const analysisRuntime = await openTestRuntime('analysis', ANALYSIS_PERSISTENCE, {
      ROLLGATE_STORAGE: 'postgres',
      ROLLGATE_DATABASE_URL: analysisDb.url,
    });
    analysis = (
      await Test.createTestingModule({
        imports: [
          AnalysisAppModule.forRoot({
            tokenStore: new FileTokenStore(tokensFile),
            runtime: analysisRuntime,
          }),
        ],
      }).compile()
    ).createNestApplication({ logger: false });
    await analysis.listen(0, '127.0.0.1');
    const { port } = analysis.getHttpServer().address() as AddressInfo;

    runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
      ROLLGATE_STORAGE: 'postgres',
      ROLLGATE_DATABASE_URL: orchestratorDb.url,
      ROLLGATE_RECONCILER: 'off',
      ROLLGATE_ANALYSIS_URL: `http://127.0.0.1:${port}`,
      // The flags service does not run here: an unanswered flag-debt check lets releases go on.
      ROLLGATE_FLAGS_URL: 'http://127.0.0.1:9',
    });
    orchestrator = (
      await Test.createTestingModule({
        imports: [
          OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
        ],
      }).compile()
    ).createNestApplication({ logger: false });
    setupHttpApp(orchestrator, ORCHESTRATOR_SERVICE);
    await orchestrator.init();
    await startEventLogTransport(orchestrator, runtime);
    // The shared configs the policies and releases below name.
    for (const name of ['shared-http', 'custom'])
      await request(analysis.getHttpServer())
        .put(`/canary-configs/${name}`)
        .set('Authorization', `Bearer ${deployer}`)
        .send({ config: inlineConfig('sum(rate(checkout_completed_total[${interval}]))') })
        .expect(200);
  }, 60_000);

  afterAll(async () => {
    await orchestrator?.close();
    await analysis?.close();
    for (const drop of drops) await drop();
  });

  it('applies YAML, is idempotent, versions each change and answers ?at= from history', async () => {
    const service = unique('checkout');
    const first = await apply(service, { policy: yamlPolicy(service) }).expect(200);
    expect(first.body).toMatchObject({ service, version: 1, changed: true });
    expect(first.body.eventIds).toHaveLength(1);
    expect(first.body.changes).toContainEqual({
      path: 'release',
      change: 'added',
      after: { strategy: 'canary', plan: { steps: [10, 20], stepSeconds: 120, replicas: 3 } },
    });

    // The same document, now as a JSON object: nothing new is stored.
    const asObject = (await get(`/services/${service}/policy`).expect(200)).body.policy;
    const again = await apply(service, asObject).expect(200);
    expect(again.body).toEqual({ service, version: 1, changed: false, changes: [], eventIds: [] });
    expect(await policyEvents(service)).toHaveLength(1);

    const between = new Date().toISOString();
    const second = await apply(service, { policy: yamlPolicy(service, 30) }).expect(200);
    expect(second.body).toMatchObject({
      version: 2,
      changed: true,
      changes: [{ path: 'release.plan.stepSeconds', change: 'changed', before: 120, after: 30 }],
    });

    const events = await policyEvents(service);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({
      actor: 'user:deployer',
      key: service,
      data: { service, version: 2 },
    });
    expect(events[1]!.data).toMatchObject({
      before: { release: { plan: { stepSeconds: 120 } } },
      after: { release: { plan: { stepSeconds: 30 } } },
    });

    const past = await get(`/services/${service}/policy?at=${between}`).expect(200);
    expect(past.body).toMatchObject({ version: 1, appliedBy: 'user:deployer' });
    expect(past.body.policy.release.plan.stepSeconds).toBe(120);
    expect((await get(`/services/${service}/policy`)).body.version).toBe(2);
    const versions = await get(`/services/${service}/policy/versions`).expect(200);
    expect(versions.body.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    await get(`/services/${service}/policy?at=2001-01-01T00:00:00Z`).expect(404);
    expect(
      (await get(`/services/${service}/policy?at=yesterday`).expect(400)).body.details,
    ).toEqual([{ field: 'at', problem: 'must be an ISO 8601 date-time' }]);
  });

  it('diff lists the changes and stores nothing', async () => {
    const service = unique('cart');
    await apply(service, { policy: yamlPolicy(service) }).expect(200);
    const diff = await apply(service, { policy: yamlPolicy(service, 45) }, deployer, 'policy/diff');
    expect(diff.status).toBe(200);
    expect(diff.body).toEqual({
      service,
      version: 2,
      changed: true,
      changes: [{ path: 'release.plan.stepSeconds', change: 'changed', before: 120, after: 45 }],
      eventIds: [],
    });
    expect(await policyEvents(service)).toHaveLength(1);
  });

  it('never stores or logs a notification URL, only its origin and fingerprint', async () => {
    const service = unique('alerts');
    const withHook = (path: string) =>
      `${yamlPolicy(service)}notifications:\n  - url: https://hooks.example.com${path}\n    types: [Release*]\n`;
    await apply(service, { policy: withHook('/T000/B000/secret-one') }).expect(200);
    const again = await apply(service, { policy: withHook('/T000/B000/secret-one') }).expect(200);
    expect(again.body.changed).toBe(false);
    const changed = await apply(service, { policy: withHook('/T000/B000/secret-two') }).expect(200);
    expect(changed.body.changes).toEqual([
      expect.objectContaining({ path: 'notifications[0].urlFingerprint', change: 'changed' }),
    ]);
    const shown = JSON.stringify((await get(`/services/${service}/policy`)).body);
    const logged = JSON.stringify(await policyEvents(service));
    for (const text of [shown, logged]) expect(text).toContain('"url":"https://hooks.example.com"');
    for (const text of [shown, logged, JSON.stringify(changed.body)])
      expect(text).not.toContain('secret-');
  });

  it('refuses invalid documents with 400 naming each path and stores nothing', async () => {
    const service = unique('search');
    const bad = yamlPolicy(service)
      .replace('steps: [10, 20]', 'steps: [20, 10]')
      .replace('maxPercent: 40', 'maxPercent: 80');
    const refused = await apply(service, { policy: bad }).expect(400);
    expect(refused.body.details).toEqual([
      { field: 'release.plan.steps[1]', problem: 'weights must increase step by step' },
      { field: 'lowTraffic.raiseShare.maxPercent', problem: 'must be a whole number from 1 to 50' },
    ]);
    const renamed = await apply(service, { policy: yamlPolicy('other') }).expect(400);
    expect(renamed.body.details).toEqual([
      { field: 'service', problem: `is "other" but the URL names "${service}"` },
    ]);
    const misspelt = await apply(service, {
      policy: yamlPolicy(service).replace('canaryConfig: shared-http', 'canaryConfig: shared-htp'),
    }).expect(400);
    expect(misspelt.body.details).toEqual([
      {
        field: 'analysis.canaryConfig',
        problem:
          'names canary config "shared-htp", which does not exist: apply it first (rollgate canary-config apply)',
      },
    ]);
    const garbled = await apply(service, { policy: 'release: [' }).expect(400);
    expect(garbled.body.details[0].field).toBe('policy');
    expect(await policyEvents(service)).toHaveLength(0);
    await get(`/services/${service}/policy`).expect(404);

    await apply(service, { policy: yamlPolicy(service) }, reader).expect(403);
    await apply(service, { policy: yamlPolicy(service) }, narrow).expect(403);
    await http().post(`/services/${service}/policy`).send({}).expect(401);
  });

  it('applies an inline canary config through the analysis service, checked before anything is stored', async () => {
    const service = unique('orders');
    const document = (prometheus: string) => ({
      apiVersion: 'rollgate/v1',
      kind: 'ServicePolicy',
      service,
      analysis: inlineConfig(prometheus),
    });
    const refused = await apply(
      service,
      document('sum(rate(checkout_completed_total{service="${service}",x="${nope}"}[1m]))'),
    ).expect(400);
    expect(refused.body.details).toEqual([
      expect.objectContaining({ field: 'analysis.metrics[0].query.prometheus' }),
    ]);
    expect(await policyEvents(service)).toHaveLength(0);
    await request(analysis.getHttpServer())
      .get(`/canary-configs/${service}`)
      .set('Authorization', `Bearer ${reader}`)
      .expect(404);

    const good = document('sum(rate(checkout_completed_total{service="${service}"}[${interval}]))');
    const applied = await apply(service, good).expect(200);
    expect(applied.body).toMatchObject({
      version: 1,
      changed: true,
      canaryConfig: { name: service, version: 1, changed: true },
    });
    const config = await request(analysis.getHttpServer())
      .get(`/canary-configs/${service}`)
      .set('Authorization', `Bearer ${reader}`)
      .expect(200);
    // Recorded as the person who applied the policy: their token was forwarded.
    expect(config.body).toMatchObject({ version: 1, appliedBy: 'user:deployer' });
    expect((await apply(service, good).expect(200)).body).toMatchObject({
      changed: false,
      canaryConfig: { version: 1, changed: false },
    });
  });

  it('a release takes the policy defaults it leaves out, records the version, and may override', async () => {
    const service = unique('payments');
    await apply(service, { policy: yamlPolicy(service) }).expect(200);
    const created = await http()
      .post('/releases')
      .set('Authorization', `Bearer ${deployer}`)
      .send({ service, artifact: { name: service, digest: digest('a') }, first: true })
      .expect(201);
    const release = await eventually(
      () => get(`/releases/${created.body.releaseId}`),
      (r) => r.status === 200,
      'release projected',
    );
    expect(release.body).toMatchObject({
      strategy: 'canary',
      plan: { canarySteps: [10, 20], stepSeconds: 120, replicas: 3 },
      policy: { version: 1 },
      canaryConfig: 'shared-http',
      lowTraffic: { raiseShare: { maxPercent: 40 }, thresholdFallback: 'confirm' },
      owners: ['team-payments@example.com'],
    });
    const [requested] = await runtime.eventStore.load(serviceStreamId(service));
    expect(requested).toMatchObject({
      type: 'ReleaseRequested',
      data: { policy: { version: 1 }, canaryConfig: 'shared-http' },
    });

    // Overrides, field by field; the policy still names its version.
    const other = unique('payments');
    await apply(other, { policy: yamlPolicy(other) }).expect(200);
    await apply(other, { policy: yamlPolicy(other, 90) }).expect(200);
    const overridden = await http()
      .post('/releases')
      .set('Authorization', `Bearer ${deployer}`)
      .send({
        service: other,
        artifact: { name: other, digest: digest('b') },
        first: true,
        plan: { stepSeconds: 15 },
        canaryConfig: 'custom',
        lowTraffic: { thresholdFallback: 'auto' },
      })
      .expect(201);
    const view = await eventually(
      () => get(`/releases/${overridden.body.releaseId}`),
      (r) => r.status === 200,
      'release projected',
    );
    expect(view.body).toMatchObject({
      plan: { canarySteps: [10, 20], stepSeconds: 15 },
      policy: { version: 2 },
      canaryConfig: 'custom',
      lowTraffic: { raiseShare: { maxPercent: 40 }, thresholdFallback: 'auto' },
    });
    const badOverride = await http()
      .post('/releases')
      .set('Authorization', `Bearer ${deployer}`)
      .send({
        service: unique('nopolicy'),
        artifact: { name: 'x', digest: digest('c') },
        first: true,
        lowTraffic: { raiseShare: { maxPercent: 70 } },
      })
      .expect(400);
    expect(badOverride.body.details).toEqual([
      { field: 'lowTraffic.raiseShare.maxPercent', problem: 'must be a whole number from 1 to 50' },
    ]);
    const unknownConfig = unique('nopolicy');
    const misspelt = await http()
      .post('/releases')
      .set('Authorization', `Bearer ${deployer}`)
      .send({
        service: unknownConfig,
        artifact: { name: 'x', digest: digest('d') },
        first: true,
        canaryConfig: 'custon',
      })
      .expect(400);
    expect(misspelt.body.details).toEqual([
      {
        field: 'canaryConfig',
        problem:
          'names canary config "custon", which does not exist: apply it first (rollgate canary-config apply)',
      },
    ]);
    expect(await runtime.eventStore.load(serviceStreamId(unknownConfig))).toHaveLength(0);
  });
});
