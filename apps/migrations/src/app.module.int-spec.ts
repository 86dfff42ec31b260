import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ensureLocalAdminToken, FileTokenStore, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime } from '@rollgate/platform/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { MigrationsAppModule, MIGRATIONS_PERSISTENCE, MIGRATIONS_SERVICE } from './app.module';

describe('MigrationsAppModule', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'rollgate-migrations-')), 'tokens.json');
    ensureLocalAdminToken(tokensFile);
    const moduleRef = await Test.createTestingModule({
      imports: [
        MigrationsAppModule.forRoot({
          tokenStore: new FileTokenStore(tokensFile),
          runtime: await openTestRuntime('migrations', MIGRATIONS_PERSISTENCE),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    setupHttpApp(app, MIGRATIONS_SERVICE);
    await app.init();
  });

  afterAll(() => app.close());

  it('describes itself as migrations on port 7005 by default', () => {
    expect(MIGRATIONS_SERVICE).toMatchObject({ name: 'migrations', defaultPort: 7005 });
  });

  it('boots and answers /health as migrations', async () => {
    const response = await request(app.getHttpServer()).get('/health').expect(200);
    expect(response.body.details.service).toEqual({ status: 'up', name: 'migrations' });
  });

  it('documents itself at /docs-json', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info.title).toBe(MIGRATIONS_SERVICE.title);
    expect(body.info.description).toBe(MIGRATIONS_SERVICE.description);
  });
});
