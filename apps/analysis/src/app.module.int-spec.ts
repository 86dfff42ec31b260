import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AnalysisAppModule, ANALYSIS_PERSISTENCE, ANALYSIS_SERVICE } from './app.module';

describe('AnalysisAppModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-analysis-')), 'tokens.json');
    ensureLocalAdminToken(tokensFile);
    const moduleRef = await Test.createTestingModule({
      imports: [
        AnalysisAppModule.forRoot({
          tokenStore: new FileTokenStore(tokensFile),
          runtime: await openTestRuntime('analysis', ANALYSIS_PERSISTENCE),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, ANALYSIS_SERVICE);
    await app.init();
  });

  afterAll(() => app.close());

  it('describes itself as analysis on port 7003 by default', () => {
    expect(ANALYSIS_SERVICE).toMatchObject({ name: 'analysis', defaultPort: 7003 });
  });

  it('boots and answers /health as analysis', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.details.service).toEqual({ status: 'up', name: 'analysis' });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(ANALYSIS_SERVICE.title);
    expect(body.info.description).toBe(ANALYSIS_SERVICE.description);
  });
});
