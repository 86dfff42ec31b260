import {
  DataPlaneUnconfirmedError,
  InvalidRouteTableError,
  RouteTable,
  VersionGroup,
} from '../port';
import { TestBackend, closedPort, startTestBackend, table } from '../testing/group-backends';
import { request, sendRequests, sharesBy } from '../testing/traffic';
import { EmbeddedProxyDataPlane, startEmbeddedProxy } from './embedded-proxy';
import { LATENCY_BUCKET_BOUNDS_MS, diffTrafficStats } from './traffic-stats';

// Percentage points the observed share may differ from the weight. The proxy's smooth
// weighted round-robin is exact per 100 requests, so this only absorbs nothing-but-bugs.
const TOLERANCE = 1.5;

function expectShares(
  shares: Record<string, number>,
  weights: Partial<Record<VersionGroup, number>>,
) {
  for (const [group, weight] of Object.entries(weights)) {
    expect(Math.abs((shares[group] ?? 0) - weight)).toBeLessThanOrEqual(TOLERANCE);
  }
}

describe('embedded proxy routing real HTTP traffic', () => {
  let proxy: EmbeddedProxyDataPlane;
  let stable1: TestBackend;
  let stable2: TestBackend;
  let canary: TestBackend;
  let blue: TestBackend;
  let green: TestBackend;

  beforeAll(async () => {
    proxy = await startEmbeddedProxy({ confirmTimeoutMs: 2000 });
    [stable1, stable2, canary, blue, green] = await Promise.all([
      startTestBackend('stable', 'stable-1'),
      startTestBackend('stable', 'stable-2'),
      startTestBackend('canary', 'canary-1'),
      startTestBackend('blue', 'blue-1'),
      startTestBackend('green', 'green-1'),
    ]);
  });

  afterAll(async () => {
    await proxy.close();
    await Promise.all([stable1, stable2, canary, blue, green].map((backend) => backend.close()));
  });

  it('sends 95/5 of 2000 requests by weight and round-robins inside a group', async () => {
    const applied = await proxy.apply(
      table('shop', { stable: 95, canary: 5 }, [stable1, stable2, canary]),
    );
    expect(applied.weights).toEqual({ stable: 95, baseline: 0, canary: 5, blue: 0, green: 0 });
    expect(applied.endpoint).toEqual(proxy.endpoint('shop'));
    expect(applied.endpoint.port).toBeGreaterThan(0);

    const replies = await sendRequests(applied.endpoint, 2000);

    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expectShares(sharesBy(replies, 'group'), { stable: 95, canary: 5 });
    const perInstance = sharesBy(replies, 'id');
    expect(Math.abs(perInstance['stable-1'] - perInstance['stable-2'])).toBeLessThanOrEqual(0.2);
  });

  it('moves to 50/50 and then 100/0 on the same listener, confirmed by current()', async () => {
    const first = await proxy.apply(table('cart', { stable: 50, canary: 50 }, [stable1, canary]));
    expectShares(sharesBy(await sendRequests(first.endpoint, 2000), 'group'), {
      stable: 50,
      canary: 50,
    });

    const second = await proxy.apply(table('cart', { stable: 100, canary: 0 }, [stable1, canary]));
    const replies = await sendRequests(second.endpoint, 2000);

    expect(second.endpoint).toEqual(first.endpoint);
    expect(sharesBy(replies, 'group')).toEqual({ stable: 100 });
    expect((await proxy.current('cart'))?.weights).toMatchObject({ stable: 100, canary: 0 });
  });

  it('swaps whole tables under load: every request is served by the old or the new one', async () => {
    const blueOnly = table('switch', { blue: 100 }, [blue]);
    const greenOnly = table('switch', { green: 100 }, [green]);
    const { endpoint } = await proxy.apply(blueOnly);

    const traffic = sendRequests(endpoint, 2000, { concurrency: 32 });
    for (let flip = 0; flip < 20; flip++) {
      await proxy.apply(flip % 2 === 0 ? greenOnly : blueOnly);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const replies = await traffic;

    expect(replies.filter((reply) => reply.status !== 200)).toEqual([]);
    expect(Object.keys(sharesBy(replies, 'group')).sort()).toEqual(['blue', 'green']);
  });

  it('forwards method, path, headers and body and streams the answer back', async () => {
    const { endpoint } = await proxy.apply(table('echo', { stable: 100 }, [stable1]));

    const reply = await request(endpoint, {
      method: 'POST',
      path: '/orders?express=1',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-42' },
      body: JSON.stringify({ sku: 'A-1', quantity: 2 }),
    });

    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      group: 'stable',
      method: 'POST',
      url: '/orders?express=1',
      body: '{"sku":"A-1","quantity":2}',
    });
    expect(reply.body.headers).toMatchObject({
      'x-request-id': 'r-42',
      'content-type': 'application/json',
    });
  });

  it('answers 502 with a JSON body when the chosen instance is down, and counts the error', async () => {
    const down = {
      group: 'canary' as const,
      id: 'canary-down',
      host: '127.0.0.1',
      port: await closedPort(),
    };
    const { endpoint } = await proxy.apply({
      service: 'broken',
      weights: { canary: 100 },
      backends: { canary: [down] },
    });

    const reply = await request(endpoint);

    expect(reply.status).toBe(502);
    expect(reply.body).toMatchObject({
      error: 'bad_gateway',
      group: 'canary',
      instance: 'canary-down',
    });
    expect((await proxy.stats('broken'))?.groups.canary).toMatchObject({ requests: 1, errors: 1 });
  });

  it('counts requests, errors and latencies per group (a canary that answers 500 slowly)', async () => {
    const failing = await startTestBackend('canary', 'canary-500', { status: 500, delayMs: 30 });
    try {
      const { endpoint } = await proxy.apply(
        table('stats', { stable: 80, canary: 20 }, [stable1, failing]),
      );
      await sendRequests(endpoint, 500);
      const before = (await proxy.stats('stats'))!;
      await sendRequests(endpoint, 100);
      const after = (await proxy.stats('stats'))!;

      expect(before.groups.stable).toMatchObject({ requests: 400, errors: 0 });
      expect(before.groups.canary).toMatchObject({ requests: 100, errors: 100 });
      expect(before.groups.baseline.requests).toBe(0);
      const canaryLatency = before.groups.canary.latency;
      expect(canaryLatency.count).toBe(100);
      expect(canaryLatency.counts.reduce((a, b) => a + b, 0)).toBe(100);
      // Every canary answer waited 30 ms, so no sample may sit in a bucket that ends below it.
      const below30 = LATENCY_BUCKET_BOUNDS_MS.filter((bound) => bound < 30).length;
      expect(canaryLatency.counts.slice(0, below30).every((count) => count === 0)).toBe(true);
      expect(canaryLatency.sumMs).toBeGreaterThanOrEqual(100 * 29);

      const window = diffTrafficStats(before, after);
      expect(window.groups.stable).toMatchObject({ requests: 80, errors: 0 });
      expect(window.groups.canary).toMatchObject({ requests: 20, errors: 20 });
      expect(window.groups.canary.latency.count).toBe(20);
    } finally {
      await failing.close();
    }
  });

  it('keeps each user in one group with a sticky header, and canary users stay when it grows', async () => {
    const sticky = { header: 'X-User-Id' };
    const users = Array.from({ length: 400 }, (_, i) => `user-${i}`);
    const groupsOf = async (weights: RouteTable['weights']) => {
      const { endpoint } = await proxy.apply({
        ...table('sticky', weights, [stable1, canary]),
        sticky,
      });
      const replies = await sendRequests(endpoint, users.length * 4, {
        headers: (i) => ({ 'x-user-id': users[i % users.length] }),
      });
      const seen = new Map<string, Set<unknown>>(users.map((user) => [user, new Set()]));
      replies.forEach((reply, i) => seen.get(users[i % users.length])!.add(reply.body.group));
      return seen;
    };

    const at10 = await groupsOf({ stable: 90, canary: 10 });
    const at25 = await groupsOf({ stable: 75, canary: 25 });

    expect([...at10.values()].every((groups) => groups.size === 1)).toBe(true);
    const inCanary = (seen: Map<string, Set<unknown>>) =>
      users.filter((user) => seen.get(user)!.has('canary'));
    expect(inCanary(at10).length / users.length).toBeGreaterThan(0.05);
    expect(inCanary(at10).length / users.length).toBeLessThan(0.15);
    expect(inCanary(at25).length).toBeGreaterThan(inCanary(at10).length);
    expect(inCanary(at10).every((user) => at25.get(user)!.has('canary'))).toBe(true);
  });

  it('refuses invalid tables, naming the problem, and keeps routing with the last good one', async () => {
    await proxy.apply(table('guarded', { stable: 100 }, [stable1]));
    const attempts: RouteTable[] = [
      table('guarded', { stable: 90, canary: 5 }, [stable1, canary]),
      table('guarded', { stable: 94.5, canary: 5.5 }, [stable1, canary]),
      table('guarded', { stable: 95, canary: 5 }, [stable1]),
      {
        ...table('guarded', { stable: 100 }, [stable1]),
        weights: { stable: 90, dark: 10 } as never,
      },
    ];
    const problems = [
      /sum to 100, got 95/,
      /integer from 0 to 100, got 94.5/,
      /canary has weight 5 but no backends/,
      /weights.dark: unknown group/,
    ];

    for (const [i, attempt] of attempts.entries()) {
      const refusal = proxy.apply(attempt);
      await expect(refusal).rejects.toThrow(InvalidRouteTableError);
      await expect(refusal).rejects.toThrow(problems[i]);
    }
    expect((await proxy.current('guarded'))?.weights.stable).toBe(100);
  });

  it('rejects apply when it cannot confirm: port taken, then proxy closed', async () => {
    const other = await startEmbeddedProxy({
      ports: { taken: stable1.port },
      confirmTimeoutMs: 1000,
    });
    const taken = other.apply(table('taken', { stable: 100 }, [stable1]));
    await expect(taken).rejects.toThrow(DataPlaneUnconfirmedError);
    await expect(taken).rejects.toThrow(/EADDRINUSE/);

    await other.close();
    await expect(other.apply(table('taken', { stable: 100 }, [stable1]))).rejects.toThrow(/closed/);
  });
});
