import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DataPlaneUnconfirmedError, InvalidRouteTableError } from '../port';
import { TestBackend, startTestBackend, table } from '../testing/group-backends';
import { sendRequests, sharesBy } from '../testing/traffic';
import { HaproxyDataPlane, startHaproxy } from './haproxy-data-plane';
import { HaproxyRuntimeApi, RuntimeApiUnreachableError } from './runtime-api';

const ENSURE_SCRIPT = path.resolve(__dirname, '../../../../infra/haproxy/ensure.sh');
// HAProxy's weighted round-robin is deterministic, so observed shares sit very close to the weights.
const TOLERANCE = 1.5;

function expectShares(shares: Record<string, number>, weights: Record<string, number>) {
  for (const [group, weight] of Object.entries(weights)) {
    expect(Math.abs((shares[group] ?? 0) - weight)).toBeLessThanOrEqual(TOLERANCE);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('HAProxy data plane against a real haproxy process', () => {
  let haproxy: HaproxyDataPlane;
  let stable1: TestBackend;
  let stable2: TestBackend;
  let canary: TestBackend;
  let baseline: TestBackend;
  let spare: TestBackend;

  beforeAll(async () => {
    execFileSync('bash', [ENSURE_SCRIPT], { stdio: 'pipe', timeout: 240_000 });
    [stable1, stable2, canary, baseline, spare] = await Promise.all([
      startTestBackend('stable', 'stable-1'),
      startTestBackend('stable', 'stable-2'),
      startTestBackend('canary', 'canary-1'),
      startTestBackend('baseline', 'baseline-1'),
      startTestBackend('canary', 'canary-2'),
    ]);
    haproxy = await startHaproxy({
      confirmTimeoutMs: 1500,
      services: [
        {
          service: 'checkout',
          table: table('checkout', { stable: 95, canary: 5 }, [stable1, stable2, canary]),
        },
        { service: 'profile', stickyHeader: 'x-user-id' },
        { service: 'tiny', slots: 2 },
        { service: 'counted', slots: 2 },
      ],
    });
  }, 300_000);

  afterAll(async () => {
    await haproxy?.close();
    await Promise.all(
      [stable1, stable2, canary, baseline, spare].map((backend) => backend?.close()),
    );
  });

  it('writes one frontend and backend per service, server weights that give the route shares, and an admin socket', () => {
    const config = readFileSync(haproxy.configPath, 'utf8');

    expect(config).toMatch(/stats socket "[^"]+admin\.sock" mode 600 level admin/);
    expect(config).toContain(`bind 127.0.0.1:${haproxy.endpoint('checkout')!.port}`);
    expect(config).toMatch(/backend be_checkout\n {2}balance roundrobin\n/);
    // 95 % over two stable servers and 5 % on one canary: 238 + 237 : 25 = 95 : 5.
    expect(config).toContain(`server slot-01 127.0.0.1:${stable1.port} weight 238`);
    expect(config).toContain(`server slot-02 127.0.0.1:${stable2.port} weight 237`);
    expect(config).toContain(`server slot-03 127.0.0.1:${canary.port} weight 25`);
    expect(config).toContain('server slot-04 0.0.0.0:0 weight 0 disabled');
    expect(config).toMatch(
      /backend be_profile\n {2}balance hdr\(x-user-id\)\n {2}hash-type consistent/,
    );
  });

  it('routes 2000 requests 95/5 from the start, spread evenly over the stable instances', async () => {
    const replies = await sendRequests(haproxy.endpoint('checkout')!, 2000);

    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expectShares(sharesBy(replies, 'group'), { stable: 95, canary: 5 });
    const perInstance = sharesBy(replies, 'id');
    expect(Math.abs(perInstance['stable-1'] - perInstance['stable-2'])).toBeLessThanOrEqual(1);
  });

  it('changes weights through the Runtime API without reloading: 50/50, then 100/0, same pid', async () => {
    const pid = haproxy.pid;
    const endpoint = haproxy.endpoint('checkout')!;

    const half = await haproxy.apply(
      table('checkout', { stable: 50, canary: 50 }, [stable1, stable2, canary]),
    );
    expect(half.weights).toEqual({ stable: 50, baseline: 0, canary: 50, blue: 0, green: 0 });
    expectShares(sharesBy(await sendRequests(endpoint, 2000), 'group'), { stable: 50, canary: 50 });

    const all = await haproxy.apply(
      table('checkout', { stable: 100, canary: 0 }, [stable1, stable2, canary]),
    );
    expect(all.weights.stable).toBe(100);
    expect(sharesBy(await sendRequests(endpoint, 2000), 'group')).toEqual({ stable: 100 });

    expect(haproxy.pid).toBe(pid);
    expect(isAlive(pid!)).toBe(true);
    expect((await haproxy.current('checkout'))?.weights).toMatchObject({ stable: 100, canary: 0 });
  });

  it('brings a new group in through a free server slot, still without a reload', async () => {
    const pid = haproxy.pid;
    const weights = { stable: 80, baseline: 10, canary: 10 };

    const applied = await haproxy.apply(
      table('checkout', weights, [stable1, stable2, baseline, spare]),
    );
    const replies = await sendRequests(haproxy.endpoint('checkout')!, 2000);

    expect(applied.backends.baseline).toEqual([
      { id: 'baseline-1', host: '127.0.0.1', port: baseline.port },
    ]);
    expect(applied.backends.canary).toEqual([
      { id: 'canary-2', host: '127.0.0.1', port: spare.port },
    ]);
    expectShares(sharesBy(replies, 'group'), weights);
    expect(sharesBy(replies, 'id')['canary-1']).toBeUndefined(); // its slot went back to maintenance
    expect(haproxy.pid).toBe(pid);
  });

  it('counts responses and 5xx per group, keeping what a slot counted with the group it served', async () => {
    const failing = await startTestBackend('canary', 'canary-500', { status: 500 });
    try {
      const endpoint = (
        await haproxy.apply(table('counted', { stable: 50, canary: 50 }, [stable1, failing]))
      ).endpoint;
      await sendRequests(endpoint, 200);
      expect((await haproxy.stats('counted'))?.groups).toMatchObject({
        stable: { requests: 100, errors: 0 },
        canary: { requests: 100, errors: 100 },
        baseline: { requests: 0, errors: 0 },
      });

      // The failing canary leaves: its slot goes idle but the canary keeps what it counted.
      await haproxy.apply(table('counted', { stable: 100 }, [stable1]));
      await sendRequests(endpoint, 100);
      // A healthy canary takes the same slot: it starts from that slot's counters, not from 0.
      await haproxy.apply(table('counted', { stable: 50, canary: 50 }, [stable1, spare]));
      await sendRequests(endpoint, 100);

      const groups = (await haproxy.stats('counted'))!.groups;
      // A service without a frontend has neither a route nor counts (apply refuses it).
      expect(await haproxy.stats('undeclared')).toBeUndefined();
      expect(await haproxy.current('undeclared')).toBeUndefined();
      await expect(haproxy.apply(table('undeclared', { stable: 100 }, [stable1]))).rejects.toThrow(
        /no frontend for it in haproxy.cfg/,
      );
      expect(groups.stable).toMatchObject({ requests: 250, errors: 0 });
      expect(groups.canary).toMatchObject({ requests: 150, errors: 100 });
      expect(groups.canary.latency.count).toBe(0); // HAProxy keeps no latency histograms
    } finally {
      await failing.close();
    }
  });

  it('refuses more instances than the service has slots, and invalid tables, naming the problem', async () => {
    const tooMany = haproxy.apply(table('tiny', { stable: 100 }, [stable1, stable2, canary]));
    await expect(tooMany).rejects.toThrow(DataPlaneUnconfirmedError);
    await expect(tooMany).rejects.toThrow(/needs 3 server slots but haproxy.cfg declares 2/);

    const before = await haproxy.current('checkout');
    const invalid = haproxy.apply(
      table('checkout', { stable: 101, canary: -1 }, [stable1, canary]),
    );
    await expect(invalid).rejects.toThrow(InvalidRouteTableError);
    await expect(invalid).rejects.toThrow(
      /weights.stable must be an integer from 0 to 100, got 101/,
    );
    await expect(
      haproxy.apply(table('unknown-service', { stable: 100 }, [stable1])),
    ).rejects.toThrow(/no frontend for it in haproxy.cfg/);
    expect(await haproxy.current('checkout')).toEqual(before);
  });

  it('keeps each user on one group with the sticky header hashed by haproxy', async () => {
    const sticky = { header: 'x-user-id' };
    const applied = await haproxy.apply({
      ...table('profile', { stable: 80, canary: 20 }, [stable1, canary]),
      sticky,
    });
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);

    const replies = await sendRequests(applied.endpoint, users.length * 4, {
      headers: (i) => ({ 'x-user-id': users[i % users.length] }),
    });

    const groupsOf = new Map<string, Set<unknown>>();
    replies.forEach((reply, i) => {
      const user = users[i % users.length];
      groupsOf.set(user, (groupsOf.get(user) ?? new Set()).add(reply.body.group));
    });
    expect([...groupsOf.values()].every((groups) => groups.size === 1)).toBe(true);
    const canaryUsers = [...groupsOf.values()].filter((groups) => groups.has('canary')).length;
    // Consistent hashing approximates the weights per user, it does not meet them exactly.
    expect(canaryUsers / users.length).toBeGreaterThan(0.08);
    expect(canaryUsers / users.length).toBeLessThan(0.35);
    await expect(haproxy.apply(table('profile', { stable: 100 }, [stable1]))).rejects.toThrow(
      /sticky header none differs from x-user-id/,
    );
  });

  it('rejects apply within the confirm timeout while haproxy does not answer (stopped), then recovers', async () => {
    const started = Date.now();
    process.kill(haproxy.pid!, 'SIGSTOP');
    try {
      const frozen = haproxy.apply(
        table('checkout', { stable: 90, canary: 10 }, [stable1, canary]),
      );
      await expect(frozen).rejects.toThrow(DataPlaneUnconfirmedError);
      await expect(frozen).rejects.toThrow(/within 1500 ms/);
    } finally {
      process.kill(haproxy.pid!, 'SIGCONT');
    }
    expect(Date.now() - started).toBeLessThan(5000);

    const back = await haproxy.apply(
      table('checkout', { stable: 90, canary: 10 }, [stable1, canary]),
    );
    expect(back.weights).toMatchObject({ stable: 90, canary: 10 });
  });

  it('rejects apply and current once haproxy is gone (killed), and the socket refuses', async () => {
    const pid = haproxy.pid!;
    process.kill(pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const gone = haproxy.apply(table('checkout', { stable: 100 }, [stable1]));
    await expect(gone).rejects.toThrow(DataPlaneUnconfirmedError);
    await expect(gone).rejects.toThrow(/haproxy exited \(signal SIGKILL\)/);
    await expect(haproxy.current('checkout')).rejects.toThrow(/haproxy exited/);

    const socketPath = path.join(path.dirname(haproxy.configPath), 'admin.sock');
    await expect(new HaproxyRuntimeApi(socketPath, 1000).send('show info')).rejects.toThrow(
      RuntimeApiUnreachableError,
    );
  });
});

describe('HAProxy data plane lifecycle', () => {
  beforeAll(() => {
    execFileSync('bash', [ENSURE_SCRIPT], { stdio: 'pipe', timeout: 240_000 });
  }, 300_000);

  it('stops the haproxy process and removes its work directory on close', async () => {
    const haproxy = await startHaproxy({ services: [{ service: 'solo' }] });
    const pid = haproxy.pid!;
    expect(isAlive(pid)).toBe(true);
    expect(await haproxy.current('solo')).toBeUndefined();

    await haproxy.close();

    expect(isAlive(pid)).toBe(false);
    expect(existsSync(haproxy.configPath)).toBe(false);
    await expect(
      haproxy.apply({
        service: 'solo',
        weights: { stable: 100 },
        backends: { stable: [{ id: 'a', host: '127.0.0.1', port: 1 }] },
      }),
    ).rejects.toThrow(/closed/);
  });

  it('fails to start with haproxy’s own message when the config cannot be served', async () => {
    const blocker = await startTestBackend('stable', 'port-holder');
    try {
      await expect(
        startHaproxy({ services: [{ service: 'clash', port: blocker.port }] }),
      ).rejects.toThrow(/haproxy exited.*(cannot bind|Address already in use)/s);
    } finally {
      await blocker.close();
    }
  });
});
