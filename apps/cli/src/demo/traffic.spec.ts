import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServedRequest } from './report';
import { RouteGroups, startTraffic } from './traffic';

/** Stands in for the data plane: answers as an instance, or as the proxy for a failed one. */
async function fakeDataPlane(
  answer: (n: number) => { status: number; body: unknown; delayMs?: number },
) {
  let n = 0;
  const server: Server = createServer((_req, res) => {
    const { status, body, delayMs = 0 } = answer(n++);
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }, delayMs);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    target: { host: '127.0.0.1', port: (server.address() as AddressInfo).port },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

const request = (): ServedRequest => ({
  sentAt: 0,
  answeredAt: 0,
  version: 'v1',
  group: null,
  failed: false,
});

describe('demo route groups', () => {
  it("labels an answer with its instance's group, waiting two reads for a new instance", () => {
    const groups = new RouteGroups();
    groups.update({ stable: [{ id: 'a' }] });
    const fromStable = request();
    const fromNew = request();
    const fromGone = request();
    groups.label(fromStable, 'a');
    groups.label(fromNew, 'b');
    groups.label(fromGone, 'z');
    expect([fromStable.group, fromNew.group, fromGone.group]).toEqual([
      'stable',
      'unknown',
      'unknown',
    ]);
    groups.update({ stable: [{ id: 'a' }], canary: [{ id: 'b' }] });
    expect(fromNew.group).toBe('canary');
    groups.update({ stable: [{ id: 'a' }], canary: [{ id: 'b' }] });
    // Two reads without it: an instance already gone, not one about to be routed.
    groups.update({ stable: [{ id: 'a' }], baseline: [{ id: 'z' }] });
    expect(fromGone.group).toBe('unknown');
  });
});

describe('demo traffic', () => {
  it('keeps its rate when answers are slow, and records who answered each request', async () => {
    // Every answer takes 300 ms: a closed loop of a few users would fall far behind 200/s.
    const plane = await fakeDataPlane((n) =>
      n % 10 === 0
        ? {
            status: 502,
            body: { error: 'bad_gateway', group: 'canary', instance: 'c1' },
            delayMs: 300,
          }
        : {
            status: n % 10 === 1 ? 500 : 200,
            body: { version: n % 2 ? 'v2' : 'v1', instanceId: n % 2 ? 'c1' : 's1' },
            delayMs: 300,
          },
    );
    const groups = new RouteGroups();
    groups.update({ stable: [{ id: 's1' }], canary: [{ id: 'c1' }] });
    const started = Date.now();
    const users = startTraffic(plane.target, 200, groups);
    await new Promise((r) => setTimeout(r, 1_500));
    await users.stop();
    await plane.close();

    const seconds = (Date.now() - started) / 1000;
    // A timer tick may fall just short of the last due request.
    expect(users.served.length).toBeGreaterThanOrEqual(200 * 1.5 - 5);
    expect(users.served.length).toBeLessThanOrEqual(200 * seconds);
    const byGroup = (group: string) => users.served.filter((r) => r.group === group);
    expect(byGroup('stable').every((r) => r.version === 'v1' && !r.failed)).toBe(true);
    // The proxy's 502 names the group it routed to; the version comes from that instance's answers.
    const proxyErrors = byGroup('canary').filter((r) => r.failed && r.version === 'v2');
    expect(proxyErrors.length).toBeGreaterThan(0);
    expect(byGroup('canary').length + byGroup('stable').length).toBe(users.served.length);
    for (const r of users.served) expect(r.answeredAt - r.sentAt).toBeGreaterThanOrEqual(290);
  });

  it('counts a request nobody answers in time as failed, with no version or group', async () => {
    const users = startTraffic({ host: '127.0.0.1', port: 9 }, 50, new RouteGroups());
    await new Promise((r) => setTimeout(r, 200));
    await users.stop();
    expect(users.served.length).toBeGreaterThan(0);
    expect(users.served.every((r) => r.failed && r.version === null && r.group === null)).toBe(
      true,
    );
  });
});
