import { resolve } from 'node:path';
import { LocalFleetDriver } from './local-fleet-driver';

const root = resolve(__dirname, '../../../..');
const good = `sha256:${'1'.repeat(64)}`;
const bad = `sha256:${'2'.repeat(64)}`;

describe(LocalFleetDriver.name, () => {
  const sut = new LocalFleetDriver({
    root,
    profiles: new Map([[bad, { errorRate: 1, latencyMs: 1 }]]),
    substitute: (spec, ordinal) =>
      spec.group === 'canary' && ordinal === 4 ? { version: 'v1', digest: good } : undefined,
  });
  afterAll(() => sut.close());

  it('runs real processes that report what they run and behave per build', async () => {
    const [stable, canary] = await Promise.all([
      sut.start({
        service: 'checkout',
        version: 'v1',
        digest: good,
        group: 'stable',
        flags: ['new-cart'],
      }),
      sut.start({ service: 'checkout', version: 'v2', digest: bad, group: 'canary' }),
    ]);
    expect(stable.port).not.toBe(canary.port);
    const observed = await sut.observe('checkout');
    expect(observed.map((o) => [o.group, o.reported?.digest, o.healthy]).sort()).toEqual([
      ['canary', bad, true],
      ['stable', good, true],
    ]);
    expect(observed.find((o) => o.group === 'stable')!.reported!.flags).toEqual(['new-cart']);
    const ok = await fetch(`http://127.0.0.1:${stable.port}/checkout`, {
      headers: { 'x-user-id': 'u1' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ version: 'v1', user: 'u1' });
    expect((await fetch(`http://127.0.0.1:${canary.port}/checkout`)).status).toBe(500);
    await sut.stop(canary.id);
    expect((await sut.observe('checkout')).map((o) => o.id)).toEqual([stable.id]);
    await sut.stop(stable.id);
  });

  it('reports the digest that really runs when a deploy silently ran the old build', async () => {
    await sut.start({ service: 'search', version: 'v2', digest: bad, group: 'canary' });
    const rogue = await sut.start({
      service: 'search',
      version: 'v2',
      digest: bad,
      group: 'canary',
    });
    const observed = (await sut.observe('search')).find((o) => o.id === rogue.id)!;
    expect(observed.intended.digest).toBe(bad);
    expect(observed.reported?.digest).toBe(good);
  });

  it('says why an instance could not start', async () => {
    const slow = new LocalFleetDriver({ root, startTimeoutMs: 1 });
    await expect(
      slow.start({ service: 'x', version: 'v', digest: good, group: 'stable' }),
    ).rejects.toThrow(/did not start within 1 ms/);
    await slow.close();
  });
});
