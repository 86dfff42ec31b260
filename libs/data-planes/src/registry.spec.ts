import { defaultDataPlaneRegistry } from './default-registry';
import { DataPlane } from './port';
import { DataPlaneRegistry } from './registry';

const fakePlane = (kind: string): DataPlane => ({
  kind,
  apply: () => Promise.reject(new Error('not used')),
  current: () => Promise.resolve(undefined),
  close: () => Promise.resolve(),
});

describe('DataPlaneRegistry', () => {
  it('creates a data plane with the factory registered for its kind and passes the options', async () => {
    const seen: unknown[] = [];
    const registry = new DataPlaneRegistry().register<{ region: string }>(
      'envoy',
      async (options) => {
        seen.push(options);
        return fakePlane('envoy');
      },
    );
    const plane = await registry.create('envoy', { region: 'eu' });
    expect(plane.kind).toBe('envoy');
    expect(seen).toEqual([{ region: 'eu' }]);
  });

  it('refuses an unknown kind, listing the registered ones, and a second factory for a kind', async () => {
    const registry = new DataPlaneRegistry().register('a', async () => fakePlane('a'));
    await expect(registry.create('b')).rejects.toThrow(
      "unknown data plane kind 'b' (registered: a)",
    );
    expect(() => registry.register('a', async () => fakePlane('a'))).toThrow('already registered');
  });

  it('ships the embedded proxy and HAProxy', async () => {
    const registry = defaultDataPlaneRegistry();
    expect(registry.kinds()).toEqual(['embedded', 'haproxy']);
    const embedded = await registry.create('embedded', {});
    expect(embedded.kind).toBe('embedded');
    await embedded.close();
  });
});
