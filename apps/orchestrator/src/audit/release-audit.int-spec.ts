import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
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
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from '../app.module';

describe('release timeline and state API (embedded log + SQLite)', () => {
  let app: INestApplication;
  let runtime: ServiceRuntime;
  const config = parseConfig({
    ROLLGATE_MODE: 'embedded',
    ROLLGATE_RECONCILER: 'off',
    ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-audit-api-')),
  });
  const tokensFile = tempTokensFile();
  const deployer = issueToken(tokensFile, { subject: 'deployer', scopes: ['deploy'] });
  const http = () => request(app.getHttpServer());

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

  afterAll(() => app.close());

  it('rebuilds what GET /releases/:id shows, and the release as it was before a pause', async () => {
    const service = `audit-${randomUUID().slice(0, 6)}`;
    const created = await http()
      .post('/releases')
      .set('Authorization', `Bearer ${deployer}`)
      .send({
        service,
        artifact: { name: service, digest: `sha256:${'c'.repeat(64)}` },
        first: true,
      })
      .expect(201);
    const id = created.body.releaseId as string;
    await eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.status === 200,
      'the release in the read model',
    );
    // Everything up to here happened before this instant; the pause comes after it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const beforePause = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await http()
      .post(`/releases/${id}/pause`)
      .set('Authorization', `Bearer ${deployer}`)
      .send({ reason: 'checking dashboards' })
      .expect(200);
    await runtime.log.append([
      {
        type: 'RouteApplied',
        version: 1,
        actor: 'service:router',
        correlationId: id,
        causationId: null,
        key: service,
        data: { service, weights: { stable: 95, canary: 5 }, dataPlane: 'embedded', releaseId: id },
      },
    ]);
    const live = await eventually(
      () => http().get(`/releases/${id}`),
      (r) => r.body.phase === 'paused',
      'the pause in the read model',
    );

    const now = await http().get(`/releases/${id}/state`).expect(200);
    expect(now.body.view).toEqual(live.body);
    expect(now.body.state.routes.map((r: { weights: object }) => r.weights)).toEqual([
      { stable: 95, canary: 5 },
    ]);
    expect(now.body.skipped).toEqual([]);

    const then = await http().get(`/releases/${id}/state`).query({ at: beforePause }).expect(200);
    expect(then.body.view).toMatchObject({
      id,
      phase: 'progressing',
      reason: null,
      requestedBy: 'user:deployer',
    });
    expect(then.body.state.routes).toEqual([]);

    const timeline = await http().get(`/releases/${id}/timeline`).expect(200);
    expect(timeline.body.timeline.map((e: { type: string }) => e.type)).toEqual([
      'ReleaseRequested',
      'ReleasePaused',
      'RouteApplied',
    ]);
    expect(timeline.body.timeline[1]).toMatchObject({
      actor: 'user:deployer',
      reason: 'checking dashboards',
      changes: expect.arrayContaining([{ field: 'phase', from: 'progressing', to: 'paused' }]),
    });
  });

  it('answers 400 naming the field for a bad instant and 404 for an unknown release', async () => {
    const bad = await http()
      .get('/releases/anything/state')
      .query({ at: 'last tuesday' })
      .expect(400);
    expect(bad.body.message).toMatch(/^at: must be an ISO-8601 instant/);
    expect(bad.body.details).toEqual([{ field: 'at' }]);
    const missing = await http().get('/releases/no-such-release/timeline').expect(404);
    expect(missing.body.message).toBe('release no-such-release has no events in the log');
  });
});
