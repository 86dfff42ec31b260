import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { FlagsAppModule, FLAGS_PERSISTENCE, FLAGS_SERVICE } from './app.module';

describe('FlagsAppModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-flags-')), 'tokens.json');
    ensureLocalAdminToken(tokensFile);
    const moduleRef = await Test.createTestingModule({
      imports: [
        FlagsAppModule.forRoot({
          tokenStore: new FileTokenStore(tokensFile),
          runtime: await openTestRuntime('flags', FLAGS_PERSISTENCE),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, FLAGS_SERVICE);
    await app.init();
  });

  afterAll(() => app.close());

  it('describes itself as flags on port 7004 by default', () => {
    expect(FLAGS_SERVICE).toMatchObject({ name: 'flags', defaultPort: 7004 });
  });

  it('boots and answers /health as flags', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.details.service).toEqual({ status: 'up', name: 'flags' });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(FLAGS_SERVICE.title);
    expect(body.info.description).toBe(FLAGS_SERVICE.description);
  });
});
