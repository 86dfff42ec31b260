import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';
import { issueToken } from './file-token-store';

describe('GET /auth/whoami', () => {
  let app: INestApplication;
  const tokensFile = tempTokensFile();
  const reader = issueToken(tokensFile, { subject: 'rita', scopes: ['read'] });
  const limited = issueToken(tokensFile, {
    subject: 'carl',
    scopes: ['deploy', 'flags'],
    services: ['checkout'],
  });
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await createTestApp(tokensFile, [], { title: 'test', description: 'test' });
  });
  afterAll(() => app.close());

  it('describes the token: subject, actor, scopes and, when limited, its services', async () => {
    expect(
      (await http().get('/auth/whoami').set('Authorization', `Bearer ${reader}`).expect(200)).body,
    ).toEqual({ subject: 'rita', actor: 'user:rita', scopes: ['read'] });
    expect(
      (await http().get('/auth/whoami').set('Authorization', `Bearer ${limited}`).expect(200)).body,
    ).toEqual({
      subject: 'carl',
      actor: 'user:carl',
      scopes: ['deploy', 'flags'],
      services: ['checkout'],
    });
  });

  it('answers 401 without a valid token', async () => {
    expect((await http().get('/auth/whoami').expect(401)).body.message).toBe(
      'missing bearer token',
    );
    await http().get('/auth/whoami').set('Authorization', 'Bearer rg_nope').expect(401);
  });

  it('is in the OpenAPI document, with the bearer scheme and no scope beyond a valid token', async () => {
    const doc = (await http().get('/docs-json').expect(200)).body as {
      paths: Record<string, { get?: Record<string, unknown> }>;
    };
    const operation = doc.paths['/auth/whoami']!.get!;
    expect(operation['x-rollgate-scopes']).toEqual([]);
    expect(operation['security']).toEqual([{ bearer: [] }]);
  });
});
