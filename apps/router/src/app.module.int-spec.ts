import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { RouterAppModule, ROUTER_PERSISTENCE, ROUTER_SERVICE } from './app.module';

describe('RouterAppModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-router-')), 'tokens.json');
    ensureLocalAdminToken(tokensFile);
    const moduleRef = await Test.createTestingModule({
      imports: [
        RouterAppModule.forRoot({
          tokenStore: new FileTokenStore(tokensFile),
          runtime: await openTestRuntime('router', ROUTER_PERSISTENCE),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, ROUTER_SERVICE);
    await app.init();
  });

  afterAll(() => app.close());

  it('describes itself as router on port 7002 by default', () => {
    expect(ROUTER_SERVICE).toMatchObject({ name: 'router', defaultPort: 7002 });
  });

  it('boots and answers /health as router', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.details.service).toEqual({ status: 'up', name: 'router' });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(ROUTER_SERVICE.title);
    expect(body.info.description).toBe(ROUTER_SERVICE.description);
  });
});
