import fc from 'fast-check';
import { VERSION_GROUPS, VersionGroup } from '../port';
import { fullWeights } from '../route-table';
import {
  HAPROXY_MAX_SERVER_WEIGHT,
  serverWeightsByGroup,
  sharesFromServerWeights,
  spreadEvenly,
} from './server-weights';

describe('serverWeightsByGroup', () => {
  it('maps 95/5 over two stable instances and one canary to 238+237 : 25', () => {
    const weights = serverWeightsByGroup(fullWeights({ stable: 95, canary: 5 }), {
      stable: 2,
      canary: 1,
    });
    expect(weights.stable).toEqual([238, 237]);
    expect(weights.canary).toEqual([25]);
    expect(weights.baseline).toEqual([]);
  });

  it('gives a group at weight 0 servers at weight 0', () => {
    const weights = serverWeightsByGroup(fullWeights({ stable: 100, canary: 0 }), {
      stable: 3,
      canary: 2,
    });
    expect(weights.canary).toEqual([0, 0]);
    expect(weights.stable.every((weight) => weight > 0)).toBe(true);
  });

  // Random route weights summing to 100 and 1-12 instances per weighted group.
  const routes = fc
    .array(fc.integer({ min: 0, max: 100 }), { minLength: 5, maxLength: 5 })
    .filter((raw) => raw.some((value) => value > 0))
    .map((raw) => {
      const total = raw.reduce((a, b) => a + b, 0);
      const scaled = raw.map((value) => Math.floor((value * 100) / total));
      scaled[scaled.findIndex((value) => value > 0)] += 100 - scaled.reduce((a, b) => a + b, 0);
      return fullWeights(Object.fromEntries(VERSION_GROUPS.map((group, i) => [group, scaled[i]])));
    });
  const counts = fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 5, maxLength: 5 });

  it('keeps every server weight an integer from 0 to 256 and each group share exactly its route weight', () => {
    fc.assert(
      fc.property(routes, counts, (route, rawCounts) => {
        const instanceCounts = Object.fromEntries(
          VERSION_GROUPS.map((group, i) => [group, rawCounts[i]]),
        );
        const byGroup = serverWeightsByGroup(route, instanceCounts);
        const all = VERSION_GROUPS.flatMap((group) => byGroup[group]);
        expect(
          all.every((w) => Number.isInteger(w) && w >= 0 && w <= HAPROXY_MAX_SERVER_WEIGHT),
        ).toBe(true);
        const total = all.reduce((a, b) => a + b, 0);
        for (const group of VERSION_GROUPS) {
          const groupTotal = byGroup[group].reduce((a, b) => a + b, 0);
          expect(groupTotal * 100).toBe(route[group] * total);
          expect(byGroup[group]).toHaveLength(instanceCounts[group]);
        }
      }),
    );
  });
});

describe('spreadEvenly', () => {
  it('splits a total into integers that differ by at most one', () => {
    expect(spreadEvenly(10, 3)).toEqual([4, 3, 3]);
    expect(spreadEvenly(2, 4)).toEqual([1, 1, 0, 0]);
    expect(spreadEvenly(0, 2)).toEqual([0, 0]);
  });
});

describe('sharesFromServerWeights', () => {
  it('turns live server weights back into percent per group', () => {
    const shares = sharesFromServerWeights({ stable: [238, 237], canary: [25] } as Partial<
      Record<VersionGroup, number[]>
    >);
    expect(shares).toEqual({ stable: 95, baseline: 0, canary: 5, blue: 0, green: 0 });
    expect(sharesFromServerWeights({ stable: [1], canary: [2] }).canary).toBe(66.67);
    expect(sharesFromServerWeights({ stable: [0] }).stable).toBe(0);
  });
});
