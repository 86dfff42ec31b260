import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { SpanKind } from '@opentelemetry/api';
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
import {
  decideAdvance,
  decideCompleteStep,
  serviceReleases,
  serviceStreamId,
  type ServiceReleasesState,
} from '@rollgate/releases';
import { RecordedTraces } from '@rollgate/telemetry';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '../app.module';

const traces = new RecordedTraces('orchestrator-test');
afterAll(() => traces.shutdown());

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const origin = { actor: 'service:orchestrator', causationId: null };

const modes: [string, Record<string, string>][] = [
  ['embedded log + SQLite', { ROLLGATE_MODE: 'embedded', ROLLGATE_RECONCILER: 'off' }],
  [
    'Kafka + PostgreSQL',
    {
      ROLLGATE_MODE: 'production',
      ROLLGATE_RECONCILER: 'off',
      ROLLGATE_SCHEMA_PREFIX: `t${randomUUID().slice(0, 8)}_`,
    },
  ],
];

describe.each(modes)('releases API on %s', (_label, env) => {
  let app: INestApplication;
  let runtime: ServiceRuntime;
  const config = parseConfig({
    ...env,
    ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-orch-')),
  });
  const tokensFile = tempTokensFile();
  const deployer = issueToken(tokensFile, { subject: 'deployer', scopes: ['deploy'] });
  const viewer = issueToken(tokensFile, { subject: 'viewer', scopes: ['read'] });
  const narrow = issueToken(tokensFile, {
    subject: 'narrow',
    scopes: ['deploy'],
    services: ['payments'],
  });
  const http = () => request(app.getHttpServer());
  const create = (service: string, token = deployer, body: object = {}) =>
    http()
      .post('/releases')
      .set('Authorization', `Bearer ${token}`)
      .send({
        service,
        artifact: { name: service, digest: digest('a') },
        strategy: 'canary',
        // Every test releases a new service (docs/adr/0010).
        first: true,
        ...body,
      });
  const act = (id: string, action: string, body: object = {}) =>
    http().post(`/releases/${id}/${action}`).set('Authorization', `Bearer ${deployer}`).send(body);
  const release = (id: string) =>
    eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.status === 200,
      `release ${id}`,
    );

  beforeAll(async () => {
    runtime = await openServiceRuntime(config, 'orchestrator', ORCHESTRATOR_PERSISTENCE);
    const moduleRef = await Test.createTestingModule({
      imports: [
        OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, ORCHESTRATOR_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
  });

  afterAll(async () => {
    await app.close();
    if (config.storage === 'postgres')
      await dropSchema(config.databaseUrl, `${config.schemaPrefix}orchestrator`);
  });

  it('accepts a digest-pinned release and shows it once projected, with the token subject as actor', async () => {
    const service = `checkout-${randomUUID().slice(0, 6)}`;
    const created = await create(service).expect(201);
    expect(created.body.eventIds).toHaveLength(1);
    const { body } = await release(created.body.releaseId);
    expect(body).toMatchObject({
      id: created.body.releaseId,
      service,
      artifact: { name: service, digest: digest('a') },
      strategy: 'canary',
      phase: 'progressing',
      step: -1,
      requestedBy: 'user:deployer',
    });
    const list = await http().get(`/releases?service=${service}`).expect(200);
    expect(list.body.map((r: { id: string }) => r.id)).toEqual([created.body.releaseId]);
    // This orchestrator runs no fleet (reconciler off): its fleet views refuse rather than guess.
    const view = await http().get(`/services/${service}`).expect(503);
    expect(view.body.message).toMatch(/does not run the fleet \(ROLLGATE_RECONCILER=off\)/);
    await http().get('/fleet/instances').expect(503);
  });

  it('refuses bad plans with 400 naming the field', async () => {
    const unknownStrategy = await create('cart', deployer, { strategy: 'yolo' }).expect(400);
    expect(unknownStrategy.body.details).toEqual([expect.objectContaining({ field: 'strategy' })]);
    const tooBig = await create('cart', deployer, { plan: { canarySteps: [10, 60] } }).expect(400);
    expect(tooBig.body.details).toEqual([
      { field: 'plan.canarySteps[1]', problem: expect.stringContaining('at most 50') },
    ]);
    const outOfOrder = await create('cart', deployer, { plan: { canarySteps: [25, 5] } }).expect(
      400,
    );
    expect(outOfOrder.body.details).toEqual([
      { field: 'plan.canarySteps[1]', problem: 'weights must increase step by step' },
    ]);
    const missingDigest = await create('cart', deployer, { artifact: { name: 'cart' } }).expect(
      400,
    );
    const fields = (missingDigest.body.details as { field: string }[]).map((d) => d.field);
    expect(new Set(fields)).toEqual(new Set(['artifact.digest']));
  });

  it('pauses, resumes and fully promotes a release, recording who did it', async () => {
    const service = `flow-${randomUUID().slice(0, 6)}`;
    const created = await create(service).expect(201);
    const id = created.body.releaseId as string;
    await release(id);
    const post = (action: string, body: object = {}) => act(id, action, body);
    await post('pause', { reason: 'waiting for the marketing launch' }).expect(200);
    await eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.body.phase === 'paused',
      'paused',
    );
    const paused = await http().get(`/releases/${id}`);
    expect(paused.body.reason).toBe('waiting for the marketing launch');
    await post('resume').expect(200);
    await eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.body.phase === 'progressing',
      'resumed',
    );
    const promoted = await post('promote', { full: true }).expect(200);
    expect(promoted.body.eventIds).toHaveLength(1);
    await post('pause').expect(400);
    await http()
      .post(`/releases/nope/pause`)
      .set('Authorization', `Bearer ${deployer}`)
      .send({ reason: 'x' })
      .expect(404);
  });

  it('lets concurrent pause, promote and abort on one release settle into one consistent story', async () => {
    const service = `race-${randomUUID().slice(0, 6)}`;
    const created = await create(service).expect(201);
    const id = created.body.releaseId as string;
    await release(id);
    const post = (action: string, body: object = {}) => act(id, action, body);
    const answers = await Promise.all([
      post('pause', { reason: 'race' }),
      post('promote', { full: true }),
      post('abort', { reason: 'race' }),
      post('pause', { reason: 'race again' }),
      post('resume'),
    ]);
    // Every command either applied to the state it saw or was refused with a reason: never a 500.
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(answers[2]!.status).toBe(200);
    const settled = await eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.body.phase === 'aborted',
      'the abort to win in the end',
    );
    expect(settled.body.reason).toBe('aborted by user:deployer: race');
    const stream = await runtime.eventStore.load(`service:${service}`);
    expect(stream.map((e) => e.sequence)).toEqual(stream.map((_, i) => i + 1));
    expect(stream.filter((e) => e.type === 'ReleaseRolledBack')).toHaveLength(1);
    expect(stream[stream.length - 1]!.type).toBe('ReleaseRolledBack');
  });

  it('refuses the first release of a service unless the request says first: true, and first: true once it has a stable build', async () => {
    const service = `chekout-${randomUUID().slice(0, 6)}`;
    const unknown = await create(service, deployer, { first: undefined }).expect(400);
    expect(unknown.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.stringContaining(`service ${service} has no stable build`),
      details: [
        {
          field: 'service',
          problem: `unknown service "${service}"; send first: true to create it`,
        },
      ],
    });
    await expect(runtime.eventStore.load(`service:${service}`)).resolves.toEqual([]);

    const created = await create(service).expect(201);
    const id = created.body.releaseId as string;
    // The first deploy succeeds (the reconciler is off here: its decisions, by hand).
    for (const decide of [
      (s: ServiceReleasesState) => decideAdvance(s, id, origin),
      (s: ServiceReleasesState) => decideCompleteStep(s, id, 0, 'healthy', origin),
      (s: ServiceReleasesState) => decideAdvance(s, id, origin),
    ])
      await runtime.eventStore.execute(serviceReleases, serviceStreamId(service), decide);

    const again = await create(service).expect(409);
    expect(again.body.details).toEqual([expect.objectContaining({ field: 'first' })]);
    await create(service, deployer, { first: undefined }).expect(201);
  });

  it('refuses a mutable tag with 400 naming the field', async () => {
    const response = await create('search', deployer, {
      artifact: { name: 'search', digest: 'latest' },
    }).expect(400);
    expect(response.body.details).toEqual([
      expect.objectContaining({
        field: 'artifact.digest',
        problem: expect.stringContaining('not a tag'),
      }),
    ]);
  });

  it('needs a token with the deploy scope for the service', async () => {
    await http().post('/releases').send({}).expect(401);
    const noScope = await create('cart', viewer).expect(403);
    expect(noScope.body.message).toBe('token of viewer lacks scope deploy');
    const wrongService = await create('cart', narrow).expect(403);
    expect(wrongService.body.message).toBe('token of narrow may not touch service cart');
  });

  it('allows one active release per service: the second is refused naming the first, even when concurrent', async () => {
    const service = `payments-${randomUUID().slice(0, 6)}`;
    const [a, b] = await Promise.all([create(service), create(service)]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const winner = a.status === 201 ? a : b;
    const loser = a.status === 201 ? b : a;
    expect(loser.body.message).toContain(`already has an active release ${winner.body.releaseId}`);
    await release(winner.body.releaseId);
    const aborted = await http()
      .post(`/releases/${winner.body.releaseId}/abort`)
      .set('Authorization', `Bearer ${deployer}`)
      .send({ reason: 'canary error rate doubled' })
      .expect(200);
    expect(aborted.body.eventIds).toHaveLength(2);
    await eventually(
      () => http().get(`/releases/${winner.body.releaseId}`),
      (r) => r.body.phase === 'aborted',
      'aborted status',
    );
    await create(service).expect(201);
  });

  it('continues the trace of a REST call through the log into the consumer that handles the event', async () => {
    const traceId = randomUUID().replace(/-/g, '');
    const service = `traced-${randomUUID().slice(0, 6)}`;
    const created = await create(service)
      .set('traceparent', `00-${traceId}-${'1'.repeat(16)}-01`)
      .expect(201);
    await release(created.body.releaseId);
    const spans = await eventually(
      async () => traces.spans().filter((s) => s.spanContext().traceId === traceId),
      (found) => found.some((s) => s.name === 'process ReleaseRequested'),
      'consumer span',
    );
    const server = spans.find((s) => s.kind === SpanKind.SERVER)!;
    const publish = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    const consume = spans.find((s) => s.name === 'process ReleaseRequested')!;
    expect(server.name).toBe('POST /releases');
    expect(publish.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(consume.kind).toBe(SpanKind.CONSUMER);
    expect(consume.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
    expect(consume.attributes['rollgate.correlation_id']).toBe(created.body.releaseId);
  });

  it('reports its consumers in /health', async () => {
    const { body } = await http().get('/health').expect(200);
    expect(body.details['event-log']).toMatchObject({
      status: 'up',
      consumers: { [`${config.schemaPrefix}orchestrator-releases`]: 'running' },
    });
  });
});
