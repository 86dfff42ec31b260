import { difference, epochChange, type EmbeddedCursor } from './metric-source';

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
