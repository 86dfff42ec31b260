import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
} from './app.module';

describe('OrchestratorAppModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-orchestrator-')), 'tokens.json');
    ensureLocalAdminToken(tokensFile);
    const moduleRef = await Test.createTestingModule({
      imports: [
        OrchestratorAppModule.forRoot({
          tokenStore: new FileTokenStore(tokensFile),
          runtime: await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, ORCHESTRATOR_SERVICE);
    await app.init();
  });

  afterAll(() => app.close());

  it('describes itself as orchestrator on port 7001 by default', () => {
    expect(ORCHESTRATOR_SERVICE).toMatchObject({ name: 'orchestrator', defaultPort: 7001 });
  });

  it('boots and answers /health as orchestrator', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.details.service).toEqual({ status: 'up', name: 'orchestrator' });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(ORCHESTRATOR_SERVICE.title);
    expect(body.info.description).toBe(ORCHESTRATOR_SERVICE.description);
  });
});
