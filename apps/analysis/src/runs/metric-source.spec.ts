import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RouterStatsSource, difference, epochChange, type EmbeddedCursor } from './metric-source';

const counts = (fast: number, slow: number) => [0, 0, 0, fast, 0, slow, 0, 0, 0, 0, 0, 0, 0, 0];
const INSTANCES = { canary: ['c1', 'c2'], baseline: ['b1'] };
const cursor = (
  at: number,
  canary: number,
  baseline: number,
  more: Partial<EmbeddedCursor> & { errors?: number } = {},
): EmbeddedCursor => ({
  at,
  epoch: more.epoch === undefined ? 'life-1' : more.epoch,
  instances: more.instances === undefined ? INSTANCES : more.instances,
  groups: {
    // Each request takes 10 ms (bucket 3) or 50 ms (bucket 5); half are slow.
    canary: {
      requests: canary,
      errors: more.errors ?? 0,
      counts: counts(canary / 2, canary / 2),
      sumMs: 30 * canary,
    },
    baseline: {
      requests: baseline,
      errors: 0,
      counts: counts(baseline / 2, baseline / 2),
      sumMs: 30 * baseline,
    },
  },
});

describe('embedded metric source', () => {
  it('turns two counter snapshots into the signals of the interval between them', () => {
    const signals = difference(
      cursor(0, 100, 100, { errors: 1 }),
      cursor(2_000, 300, 260, { errors: 5 }),
    );
    expect(signals.canary).toEqual({
      requests: 200,
      errors: 4,
      latencyCounts: counts(100, 100),
      // 200 requests × 30 ms busy over 2 s on 2 instances: 1.5 in flight per instance.
      saturation: 1.5,
    });
    expect(signals.baseline.requests).toBe(160);
    expect(signals.baseline.saturation).toBeCloseTo(2.4);
  });

  it('has no saturation for a group it cannot count instances of, or without latency', () => {
    const signals = difference(cursor(0, 10, 10), cursor(1_000, 20, 20, { instances: null }));
    expect(signals.canary.saturation).toBeNull();
    // HAProxy counts requests but no latency: nobody knows how long they were in flight.
    const untimed = (at: number, requests: number): EmbeddedCursor => ({
      ...cursor(at, requests, requests),
      groups: {
        canary: { requests, errors: 0, counts: counts(0, 0), sumMs: 0 },
        baseline: { requests, errors: 0, counts: counts(0, 0), sumMs: 0 },
      },
    });
    const haproxy = difference(untimed(0, 10), untimed(1_000, 20));
    expect(haproxy.canary).toMatchObject({ requests: 10, saturation: null });
  });
});

describe('measurement epochs of the embedded source', () => {
  it('sees one epoch while the same counters count for the same instances', () => {
    expect(epochChange(cursor(0, 100, 100), cursor(1_000, 150, 140))).toBeNull();
    // A route that could not be read says nothing about the instances.
    expect(
      epochChange(cursor(0, 100, 100), cursor(1_000, 150, 140, { instances: null })),
    ).toBeNull();
  });

  it('sees a restart of the data plane in a new counter epoch, even with counters that grew', () => {
    expect(epochChange(cursor(0, 100, 100), cursor(1_000, 150, 140, { epoch: 'life-2' }))).toBe(
      'the data plane restarted and its counters began again',
    );
  });

  it('sees a restart in counters that went backwards when the router reports no epoch', () => {
    const old = { epoch: null };
    expect(epochChange(cursor(0, 100, 100, old), cursor(1_000, 20, 20, old))).toBe(
      'the data plane restarted and its counters began again',
    );
    expect(
      epochChange(cursor(0, 100, 100, { ...old, errors: 3 }), cursor(1_000, 120, 120, old)),
    ).toBe('the data plane restarted and its counters began again');
  });

  it('sees new canary or baseline instances in the route as a new epoch', () => {
    const replaced = { instances: { canary: ['c3', 'c4'], baseline: ['b1'] } };
    expect(epochChange(cursor(0, 100, 100), cursor(1_000, 150, 140, replaced))).toBe(
      'the canary instances were replaced',
    );
  });
});

describe("embedded metric source: the instances' own metrics", () => {
  // A router and two instances over real HTTP: the route names the instances, each exposes its
  // checkout counter at /metrics.
  const checkouts = { canary: 10, baseline: 40 };
  let exposing = true;
  const servers: Server[] = [];
  const listen = (handler: (url: string) => [number, unknown]) =>
    new Promise<number>((resolve) => {
      const server = createServer((req, res) => {
        const [status, body] = handler(req.url ?? '');
        res.writeHead(status);
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const instance = (group: 'canary' | 'baseline') =>
    listen(() =>
      exposing
        ? [
            200,
            `# TYPE checkout_completed_total counter\ncheckout_completed_total ${checkouts[group]}\n`,
          ]
        : [503, 'down'],
    );
  let router = '';

  beforeAll(async () => {
    const [canary, baseline] = await Promise.all([instance('canary'), instance('baseline')]);
    const port = await listen((url) =>
      url.endsWith('/stats')
        ? [
            200,
            {
              epoch: 'life-1',
              groups: {
                canary: { requests: 10, errors: 0 },
                baseline: { requests: 10, errors: 0 },
              },
            },
          ]
        : [
            200,
            {
              backends: {
                canary: [{ id: 'c1', host: '127.0.0.1', port: canary }],
                baseline: [{ id: 'b1', host: '127.0.0.1', port: baseline }],
              },
            },
          ],
    );
    router = `http://127.0.0.1:${port}`;
  });
  afterAll(() => servers.forEach((server) => server.close()));

  const metrics = [
    {
      name: 'checkouts',
      query: { embedded: { counter: 'checkout_completed_total' } },
      direction: 'decrease' as const,
    },
  ];
  const fleet = { startedAt: async () => '2026-01-01T00:00:00Z' };

  it('reads each routed instance at /metrics and gives the counter per second per group', async () => {
    const source = new RouterStatsSource(router, fleet);
    const start = await source.mark('shop', metrics);
    checkouts.canary += 2;
    checkouts.baseline += 20;
    const reading = await source.readSince('shop', start, metrics);
    const { canary, baseline } = reading.signals!.custom!['checkouts']!;
    // 20 checkouts against 2 over the same interval, whatever its length.
    expect(baseline! / canary!).toBeCloseTo(10);
    expect(canary!).toBeGreaterThan(0);
  });

  it('has no value, and says why, when the instances cannot be read', async () => {
    const source = new RouterStatsSource(router, fleet);
    const start = await source.mark('shop', metrics);
    exposing = false;
    const reading = await source.readSince('shop', start, metrics);
    exposing = true;
    expect(reading.signals!.custom!['checkouts']).toMatchObject({ canary: null, baseline: null });
    expect(reading.signals!.custom!['checkouts']!.problem).toMatch(
      /^no data \(canary: cannot read the exposition: .*answered 503/,
    );
  });
});
