import { isSilent, pickHost, placeAll, type HostLoad } from './scheduling';

const host = (name: string, capacity: number, services: Record<string, number> = {}): HostLoad => ({
  host: name,
  capacity,
  services,
});

describe('agent scheduling', () => {
  it('spreads a service over hosts before filling any one of them', () => {
    expect(placeAll([host('a', 4), host('b', 4)], 'shop', 4)).toEqual(['a', 'b', 'a', 'b']);
  });

  it('prefers the host with fewer instances of the service even when it has fewer free slots', () => {
    const hosts = [host('a', 10, { other: 1, shop: 2 }), host('b', 3, { other: 2 })];
    expect(pickHost(hosts, 'shop')).toBe('b');
  });

  it('breaks a tie on the service by free slots, then by name', () => {
    expect(pickHost([host('a', 2, { x: 1 }), host('b', 4, { y: 1 })], 'shop')).toBe('b');
    expect(pickHost([host('b', 2), host('a', 2)], 'shop')).toBe('a');
  });

  it('never places on a full host, and places nothing when every host is full', () => {
    const hosts = [host('a', 1, { shop: 1 }), host('b', 2, { shop: 1, other: 1 }), host('c', 3)];
    expect(placeAll(hosts, 'shop', 5)).toEqual(['c', 'c', 'c']);
    expect(pickHost([host('a', 1, { x: 1 }), host('b', 0)], 'shop')).toBeUndefined();
  });

  it('counts an agent as lost only after its own silence limit', () => {
    expect(isSilent(1_000, 5_000, 6_000)).toBe(false);
    expect(isSilent(1_000, 5_000, 6_001)).toBe(true);
  });
});
