import { Controller, Delete, Get, INestApplication, Param, Post } from '@nestjs/common';
import { readFileSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';
import { assertMayTouchService, Principal, RequireScopes } from './decorators';
import { issueToken } from './file-token-store';
import type { AuthPrincipal } from './principal';

@Controller('services')
class ServicesController {
  @Get()
  list() {
    return ['checkout'];
  }

  @Get('whoami')
  @RequireScopes('read')
  whoAmI(@Principal() principal: AuthPrincipal) {
    return { actor: principal.actor };
  }

  @Post(':service/deploy')
  @RequireScopes('deploy')
  deploy(@Param('service') service: string, @Principal() principal: AuthPrincipal) {
    assertMayTouchService(principal, service);
    return { actor: principal.actor, service };
  }

  // No @RequireScopes on purpose: a mutating handler without one must demand admin.
  @Delete(':service')
  remove(@Param('service') service: string) {
    return { removed: service };
  }
}

describe('BearerAuthGuard', () => {
  let app: INestApplication;
  let tokensFile: string;
  const tokens: Record<string, string> = {};
  const http = () => request(app.getHttpServer());
  const bearer = (name: string) => ({ Authorization: `Bearer ${tokens[name]}` });

  beforeAll(async () => {
    tokensFile = tempTokensFile();
    tokens.reader = issueToken(tokensFile, { subject: 'rita', scopes: ['read'] });
    tokens.deployer = issueToken(tokensFile, { subject: 'dave', scopes: ['deploy'] });
    tokens.checkoutOnly = issueToken(tokensFile, {
      subject: 'carl',
      scopes: ['deploy'],
      services: ['checkout'],
    });
    tokens.admin = issueToken(tokensFile, { subject: 'ada', scopes: ['admin'] });
    app = await createTestApp(tokensFile, [ServicesController]);
  });

  afterAll(() => app.close());

  it('rejects a mutation without a token: 401 missing bearer token', async () => {
    const response = await http().post('/services/checkout/deploy').expect(401);
    expect(response.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'missing bearer token',
    });
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it('treats a non-bearer Authorization header as missing', async () => {
    const response = await http()
      .post('/services/checkout/deploy')
      .set('Authorization', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l')
      .expect(401);
    expect(response.body.message).toBe('missing bearer token');
  });

  it('rejects an unknown token: 401 unknown or revoked token', async () => {
    const response = await http()
      .post('/services/checkout/deploy')
      .set('Authorization', 'Bearer rg_made-up')
      .expect(401);
    expect(response.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'unknown or revoked token',
    });
  });

  it('rejects a token without the declared scope: 403', async () => {
    const response = await http()
      .post('/services/checkout/deploy')
      .set(bearer('reader'))
      .expect(403);
    expect(response.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'token of rita lacks scope deploy',
    });
  });

  it('rejects a token limited to other services: 403', async () => {
    const response = await http()
      .post('/services/payments/deploy')
      .set(bearer('checkoutOnly'))
      .expect(403);
    expect(response.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: 'token of carl may not touch service payments',
    });
  });

  it('lets the right scope through and hands the handler its actor', async () => {
    const ok = await http().post('/services/checkout/deploy').set(bearer('checkoutOnly'));
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ actor: 'user:carl', service: 'checkout' });

    const byAdmin = await http().post('/services/payments/deploy').set(bearer('admin')).expect(201);
    expect(byAdmin.body.actor).toBe('user:ada');
  });

  it('requires admin on a mutation that declares no scope', async () => {
    const denied = await http().delete('/services/checkout').set(bearer('deployer')).expect(403);
    expect(denied.body.message).toBe('token of dave lacks scope admin');
    await http().delete('/services/checkout').set(bearer('admin')).expect(200);
  });

  it('serves undecorated GETs without a token', async () => {
    await http().get('/services').expect(200, ['checkout']);
  });

  it('protects a GET that declares a scope', async () => {
    await http().get('/services/whoami').expect(401);
    const response = await http().get('/services/whoami').set(bearer('reader')).expect(200);
    expect(response.body).toEqual({ actor: 'user:rita' });
  });

  it('rejects a token once it is revoked in the file', async () => {
    const revoked = issueToken(tokensFile, { subject: 'temp', scopes: ['admin'] });
    await http().delete('/services/x').set('Authorization', `Bearer ${revoked}`).expect(200);

    const entries = JSON.parse(readFileSync(tokensFile, 'utf8')) as { subject: string }[];
    const remaining = entries.filter((entry) => entry.subject !== 'temp');
    writeFileSync(tokensFile, JSON.stringify(remaining));

    const response = await http()
      .delete('/services/x')
      .set('Authorization', `Bearer ${revoked}`)
      .expect(401);
    expect(response.body.message).toBe('unknown or revoked token');
  });
});
