import { difference, type EmbeddedCursor } from './metric-source';

const counts = (fast: number, slow: number) => [0, 0, 0, fast, 0, slow, 0, 0, 0, 0, 0, 0, 0, 0];
const cursor = (at: number, canary: number, baseline: number, errors = 0): EmbeddedCursor => ({
  at,
  groups: {
    // Each request takes 10 ms (bucket 3) or 50 ms (bucket 5); half are slow.
    canary: {
      requests: canary,
      errors,
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
    const signals = difference(cursor(0, 100, 100, 1), cursor(2_000, 300, 260, 5), {
      canary: 2,
      baseline: 1,
    });
    expect(signals?.canary).toEqual({
      requests: 200,
      errors: 4,
      latencyCounts: counts(100, 100),
      // 200 requests × 30 ms busy over 2 s on 2 instances: 1.5 in flight per instance.
      saturation: 1.5,
    });
    expect(signals?.baseline.requests).toBe(160);
    expect(signals?.baseline.saturation).toBeCloseTo(2.4);
  });

  it('has no saturation for a group it cannot count instances of, or without latency', () => {
    const signals = difference(cursor(0, 10, 10), cursor(1_000, 20, 20), {});
    expect(signals?.canary.saturation).toBeNull();
    // HAProxy counts requests but no latency: nobody knows how long they were in flight.
    const untimed = (at: number, requests: number): EmbeddedCursor => ({
      at,
      groups: {
        canary: { requests, errors: 0, counts: counts(0, 0), sumMs: 0 },
        baseline: { requests, errors: 0, counts: counts(0, 0), sumMs: 0 },
      },
    });
    const haproxy = difference(untimed(0, 10), untimed(1_000, 20), { canary: 1, baseline: 1 });
    expect(haproxy?.canary).toMatchObject({ requests: 10, saturation: null });
  });

  it('refuses an interval whose counters went backwards: the data plane restarted', () => {
    expect(difference(cursor(0, 100, 100), cursor(1_000, 20, 20), {})).toBeNull();
    expect(difference(cursor(0, 100, 100, 3), cursor(1_000, 120, 120, 0), {})).toBeNull();
  });
});
