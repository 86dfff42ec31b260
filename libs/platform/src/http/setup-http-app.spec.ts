import { Controller, Delete, Get, INestApplication, Post } from '@nestjs/common';
import request from 'supertest';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';
import { issueToken } from '../auth/file-token-store';
import { RequireScopes } from '../auth/decorators';

@Controller('widgets')
class WidgetsController {
  @Get()
  list() {
    return [];
  }

  @Get('secret')
  @RequireScopes('read')
  secret() {
    return {};
  }

  @Post()
  @RequireScopes('deploy')
  create() {
    return {};
  }

  @Delete()
  purge() {
    return {};
  }
}

describe('setupHttpApp (via createTestApp)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    issueToken(tokensFile, { subject: 'ops', scopes: ['admin'] });
    app = await createTestApp(tokensFile, [WidgetsController], {
      title: 'Widget service',
      description: 'Owns the widgets.',
    });
  });

  afterAll(() => app.close());

  it('serves the OpenAPI document at /docs-json with the title and bearer auth', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.info).toMatchObject({ title: 'Widget service', description: 'Owns the widgets.' });
    expect(body.components.securitySchemes.bearer).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'opaque',
    });
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/health', '/widgets', '/widgets/secret']),
    );
  });

  it('marks mutations and scoped reads as needing a token, and leaves public reads open', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.paths['/widgets'].post.security).toEqual([{ bearer: [] }]);
    expect(body.paths['/widgets/secret'].get.security).toEqual([{ bearer: [] }]);
    expect(body.paths['/widgets'].get.security).toBeUndefined();
    expect(body.paths['/health'].get.security).toBeUndefined();
  });

  it('lists the scopes each operation needs, admin for a mutation that declares none', async () => {
    const { body } = await request(app.getHttpServer()).get('/docs-json').expect(200);
    expect(body.paths['/widgets'].post['x-rollgate-scopes']).toEqual(['deploy']);
    expect(body.paths['/widgets'].delete['x-rollgate-scopes']).toEqual(['admin']);
    expect(body.paths['/widgets/secret'].get['x-rollgate-scopes']).toEqual(['read']);
    expect(body.paths['/widgets'].get['x-rollgate-scopes']).toBeUndefined();
  });

  it('serves the Swagger UI at /docs', async () => {
    const response = await request(app.getHttpServer()).get('/docs').expect(200);
    expect(response.text).toContain('<title>Swagger UI</title>');
  });
});
