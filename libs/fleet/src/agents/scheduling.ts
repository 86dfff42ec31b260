/** One agent as the scheduler sees it: what it can run and what runs (or is starting) on it. */
export interface HostLoad {
  host: string;
  capacity: number;
  /** Instances running or being started there, by service. */
  services: Readonly<Record<string, number>>;
}

export const usedOf = (load: HostLoad): number =>
  Object.values(load.services).reduce((sum, n) => sum + n, 0);

/**
 * Where the next instance of `service` goes: among hosts with a free slot, the one that runs the
 * fewest instances of this service (spread: losing one host loses as few of its instances as
 * possible), then the one with the most free slots (balance), then by name (deterministic).
 * Undefined when no host has a free slot.
 */
export function pickHost(hosts: readonly HostLoad[], service: string): string | undefined {
  const candidates = hosts.filter((h) => h.capacity - usedOf(h) > 0);
  candidates.sort(
    (a, b) =>
      (a.services[service] ?? 0) - (b.services[service] ?? 0) ||
      b.capacity - usedOf(b) - (a.capacity - usedOf(a)) ||
      (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
  );
  return candidates[0]?.host;
}

/** Places `count` instances of a service one after the other (each placement counts for the next). */
export function placeAll(hosts: readonly HostLoad[], service: string, count: number): string[] {
  const loads = hosts.map((h) => ({ ...h, services: { ...h.services } }));
  const placed: string[] = [];
  for (let i = 0; i < count; i++) {
    const host = pickHost(loads, service);
    if (!host) break;
    const load = loads.find((h) => h.host === host)!;
    load.services[service] = (load.services[service] ?? 0) + 1;
    placed.push(host);
  }
  return placed;
}

/** An agent counts as lost once it has been silent for its own `lostAfterMs`. */
export function isSilent(lastHeartbeatAt: number, lostAfterMs: number, now: number): boolean {
  return now - lastHeartbeatAt > lostAfterMs;
}
