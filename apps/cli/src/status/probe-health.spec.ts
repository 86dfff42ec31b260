import { INestApplication } from '@nestjs/common';
import { HealthChecks } from '@rollgate/platform';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedPortUrl, listenAsService } from '../testing/service-fixtures';
import { probeHealth } from './probe-health';

describe('probeHealth', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await listenAsService('router');
    url = await app.getUrl();
  });

  afterAll(() => app.close());

  it('reports up with the names of the checks', async () => {
    expect(await probeHealth('router', url)).toEqual({
      service: 'router',
      url,
      status: 'up',
      lag: '-',
      oldest: '-',
      detail: 'checks: service',
    });
  });

  it("sums the consumers' lag, shows the oldest unprocessed age, and says degraded past the limit", async () => {
    let events = 3;
    const unregister = app.get(HealthChecks).register('event-log', async () => ({
      up: true,
      ...(events > 10 ? { condition: 'degraded' as const } : {}),
      detail: {
        maxLag: 10,
        lag: {
          releases: { events, oldestUnprocessedSeconds: 1.5 },
          signals: { events: 1, oldestUnprocessedSeconds: 4 },
        },
      },
    }));
    try {
      expect(await probeHealth('router', url)).toMatchObject({
        status: 'up',
        lag: '4',
        oldest: '4 s',
      });
      events = 50;
      expect(await probeHealth('router', url)).toMatchObject({
        status: 'degraded',
        lag: '51',
        detail: 'consumers behind the log by more than 10 events',
      });
    } finally {
      unregister();
    }
  });

  it('reports starting while consumers have not joined (503 "starting")', async () => {
    const unregister = app.get(HealthChecks).register('event-log', async () => ({
      up: true,
      condition: 'starting' as const,
    }));
    try {
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(503);
      expect(((await response.json()) as { status: string }).status).toBe('starting');
      expect(await probeHealth('router', url)).toMatchObject({
        status: 'starting',
        detail: 'consumers are joining their groups',
      });
    } finally {
      unregister();
    }
  });

  it('reports down naming the failing check and its message', async () => {
    const unregister = app.get(HealthChecks).register('event-log-consumer', async () => ({
      up: false,
      detail: { message: 'crashed' },
    }));
    try {
      const status = await probeHealth('router', url);
      expect(status.status).toBe('down');
      expect(status.detail).toBe('event-log-consumer down (crashed)');
    } finally {
      unregister();
    }
  });

  it('reports down when a different service answers the URL', async () => {
    const status = await probeHealth('flags', url);
    expect(status).toMatchObject({ status: 'down', detail: 'answered as router, expected flags' });
  });

  it('reports unreachable when nothing listens', async () => {
    const closed = await closedPortUrl();
    expect(await probeHealth('router', closed)).toEqual({
      service: 'router',
      url: closed,
      status: 'unreachable',
      lag: '-',
      oldest: '-',
      detail: 'ECONNREFUSED',
    });
  });

  it('gives up after the timeout when the server never answers', async () => {
    const silent: Server = createServer(() => undefined); // accepts, never responds
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      const status = await probeHealth('router', `http://127.0.0.1:${port}`, 200);
      expect(status).toMatchObject({ status: 'unreachable', detail: 'no answer within 200 ms' });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
