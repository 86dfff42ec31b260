import { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createTestApp, tempTokensFile } from '../testing/create-test-app';
import { issueToken } from '../auth/file-token-store';
import { HealthChecks } from './health-checks';

describe('/health', () => {
  let app: INestApplication;
  let checks: HealthChecks;
  const health = () => request(app.getHttpServer()).get('/health');

  beforeAll(async () => {
    const tokensFile = tempTokensFile();
    issueToken(tokensFile, { subject: 'ops', scopes: ['admin'] });
    app = await createTestApp(tokensFile);
    checks = app.get(HealthChecks);
  });

  afterAll(() => app.close());

  it('is 200 and names the service when every check is up', async () => {
    const response = await health().expect(200);
    expect(response.body).toEqual({
      status: 'ok',
      info: { service: { status: 'up', name: 'test-service' } },
      error: {},
      details: { service: { status: 'up', name: 'test-service' } },
    });
  });

  it('is 503 and names the failing check when a registered check is down', async () => {
    const unregister = checks.register('event-log-consumer', async () => ({
      up: false,
      detail: { message: 'crashed at offset 42' },
    }));
    try {
      const response = await health().expect(503);
      expect(response.body.status).toBe('error');
      expect(response.body.error).toEqual({
        'event-log-consumer': { status: 'down', message: 'crashed at offset 42' },
      });
      expect(response.body.info).toEqual({ service: { status: 'up', name: 'test-service' } });
    } finally {
      unregister();
    }
    await health().expect(200);
  });

  it('counts a check that throws as down, with its message', async () => {
    const unregister = checks.register('database', async () => {
      throw new Error('connection refused');
    });
    try {
      const response = await health().expect(503);
      expect(response.body.error.database).toEqual({
        status: 'down',
        message: 'connection refused',
      });
    } finally {
      unregister();
    }
  });

  it('reports registered detail of checks that are up', async () => {
    const unregister = checks.register('projection', async () => ({
      up: true,
      detail: { lag: 0 },
    }));
    try {
      const response = await health().expect(200);
      expect(response.body.details.projection).toEqual({ status: 'up', lag: 0 });
    } finally {
      unregister();
    }
  });

  it('refuses two checks with the same name', () => {
    expect(() => checks.register('service', async () => ({ up: true }))).toThrow(
      "health check 'service' is already registered",
    );
  });
});
