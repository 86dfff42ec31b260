import fc from 'fast-check';
import { RouteTable, VersionGroup } from '../port';
import { fullWeights } from '../route-table';
import {
  ActiveRoute,
  STICKY_BUCKETS,
  SmoothWeightedRoundRobin,
  groupForBucket,
  stickyBucket,
} from './group-picker';

function picks(weights: Partial<Record<VersionGroup, number>>, count: number): VersionGroup[] {
  const spread = new SmoothWeightedRoundRobin(fullWeights(weights));
  return Array.from({ length: count }, () => spread.next());
}

function count(groups: VersionGroup[], group: VersionGroup): number {
  return groups.filter((picked) => picked === group).length;
}

describe('SmoothWeightedRoundRobin', () => {
  it.each([
    [{ stable: 95, canary: 5 }],
    [{ stable: 50, canary: 50 }],
    [{ stable: 100, canary: 0 }],
    [{ stable: 70, baseline: 15, canary: 15 }],
  ])('gives every group exactly its weight in each 100 picks: %j', (weights) => {
    const chosen = picks(weights, 300);
    for (const [group, weight] of Object.entries(weights)) {
      expect(count(chosen.slice(0, 100), group as VersionGroup)).toBe(weight);
      expect(count(chosen, group as VersionGroup)).toBe(weight * 3);
    }
  });

  it('interleaves instead of sending bursts (50/50 alternates)', () => {
    expect(picks({ blue: 50, green: 50 }, 6)).toEqual([
      'blue',
      'green',
      'blue',
      'green',
      'blue',
      'green',
    ]);
    const canaryPositions = picks({ stable: 95, canary: 5 }, 100)
      .map((group, i) => (group === 'canary' ? i : -1))
      .filter((i) => i >= 0);
    expect(canaryPositions[1] - canaryPositions[0]).toBe(20);
  });
});

describe('sticky buckets', () => {
  it('hash a value to the same bucket every time, within range', () => {
    expect(stickyBucket('user-42')).toBe(stickyBucket('user-42'));
    fc.assert(
      fc.property(fc.string(), (value) => {
        const bucket = stickyBucket(value);
        return Number.isInteger(bucket) && bucket >= 0 && bucket < STICKY_BUCKETS;
      }),
    );
  });

  it('give each group a range of buckets as wide as its weight', () => {
    const weights = fullWeights({ stable: 90, canary: 10 });
    expect(groupForBucket(0, weights)).toBe('canary');
    expect(groupForBucket(999, weights)).toBe('canary');
    expect(groupForBucket(1000, weights)).toBe('stable');
    expect(groupForBucket(STICKY_BUCKETS - 1, weights)).toBe('stable');
  });

  it('keep a canary user in the canary when the canary share grows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: STICKY_BUCKETS - 1 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 0, max: 50 }),
        (bucket, before, growth) => {
          const small = fullWeights({ stable: 100 - 2 * before, baseline: before, canary: before });
          const larger = fullWeights({
            stable: 100 - 2 * Math.min(50, before + growth),
            baseline: Math.min(50, before + growth),
            canary: Math.min(50, before + growth),
          });
          return (
            groupForBucket(bucket, small) !== 'canary' ||
            groupForBucket(bucket, larger) === 'canary'
          );
        },
      ),
    );
  });

  it('spread distinct users over groups close to the weights', () => {
    const weights = fullWeights({ stable: 80, canary: 20 });
    const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    const inCanary = users.filter(
      (user) => groupForBucket(stickyBucket(user), weights) === 'canary',
    );
    expect(inCanary.length / users.length).toBeGreaterThan(0.18);
    expect(inCanary.length / users.length).toBeLessThan(0.22);
  });
});

describe('ActiveRoute', () => {
  const table: RouteTable = {
    service: 'web',
    weights: { stable: 100 },
    backends: {
      stable: [
        { id: 'a', host: '127.0.0.1', port: 1 },
        { id: 'b', host: '127.0.0.1', port: 2 },
        { id: 'c', host: '127.0.0.1', port: 3 },
      ],
    },
  };

  it('round-robins across the instances of the chosen group', () => {
    const route = new ActiveRoute(table);
    const ids = Array.from(
      { length: 7 },
      () => route.chooseInstance(route.chooseGroup(undefined)).id,
    );
    expect(ids).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
  });

  it('uses the sticky value when there is one', () => {
    const route = new ActiveRoute({
      ...table,
      weights: { stable: 50, canary: 50 },
      backends: { ...table.backends, canary: [{ id: 'k', host: '127.0.0.1', port: 4 }] },
    });
    const group = route.chooseGroup('user-7');
    expect(Array.from({ length: 20 }, () => route.chooseGroup('user-7'))).toEqual(
      new Array(20).fill(group),
    );
  });
});
