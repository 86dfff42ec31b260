import { prng } from '../sample/behaviour';
import { SimulatedUsers, type SimulatedUserRoutes } from './simulated-users';

describe('SimulatedUsers', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends each service its share about once a second, services taking turns over the second', async () => {
    const services = Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
    const calls: { service: string; at: number; count: number }[] = [];
    const routes: SimulatedUserRoutes = {
      servicesInAnalysis: () => services,
      simulate: (service, users) => {
        calls.push({ service, at: Date.now(), count: users.length });
        return Promise.resolve();
      },
    };
    const users = new SimulatedUsers(routes, 10);
    const began = Date.now();
    users.start();
    await jest.advanceTimersByTimeAsync(3_000);
    await users.close();

    // The rate holds: 10 requests a second for 3 s per service (the first turn owes part of one).
    for (const service of services) {
      const sent = calls.filter((c) => c.service === service).reduce((n, c) => n + c.count, 0);
      expect(sent).toBeGreaterThanOrEqual(20);
      expect(sent).toBeLessThanOrEqual(30);
    }
    expect(users.count()).toBe(calls.reduce((n, c) => n + c.count, 0));
    // Spread: the services' exchanges in the last second fall on many different moments.
    const lastRound = calls.filter((c) => c.at > began + 2_000).map((c) => c.at);
    expect(new Set(lastRound).size).toBeGreaterThanOrEqual(6);
  });

  it("draws each request's user at random: a service does not get the same few users round after round", async () => {
    // 100 services × 10 req/s: 1,000 requests a round, the size of the old population, where a
    // user counter shared by the services gave each service the same ten users every round.
    const services = Array.from({ length: 100 }, (_, i) => `svc-${String(i).padStart(3, '0')}`);
    const usersOf = new Map<string, string[]>();
    const routes: SimulatedUserRoutes = {
      servicesInAnalysis: () => services,
      simulate: (service, users) => {
        usersOf.set(service, [...(usersOf.get(service) ?? []), ...users]);
        return Promise.resolve();
      },
    };
    const users = new SimulatedUsers(routes, 10, prng(7));
    users.start();
    await jest.advanceTimersByTimeAsync(5_000);
    await users.close();
    for (const service of services) {
      const seen = usersOf.get(service) ?? [];
      expect(seen.length).toBeGreaterThanOrEqual(40);
      expect(new Set(seen).size).toBeGreaterThanOrEqual(seen.length - 1);
    }
  });
});
