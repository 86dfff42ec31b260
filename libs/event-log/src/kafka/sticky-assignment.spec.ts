import { decodeHeld, stickyAssignment, type TopicAssignment } from './sticky-assignment';

const T = 'rollgate.releases';
const six = { [T]: [0, 1, 2, 3, 4, 5] };
const counts = (result: Record<string, TopicAssignment>) =>
  Object.fromEntries(Object.entries(result).map(([id, a]) => [id, a[T]?.length ?? 0]));
const kept = (before: TopicAssignment, after: TopicAssignment) =>
  (before[T] ?? []).filter((p) => (after[T] ?? []).includes(p));

describe('sticky assignment', () => {
  it('a member joining two that hold 3 + 3 takes one from each; the others stay where they were', () => {
    const a = { [T]: [0, 2, 4] };
    const b = { [T]: [1, 3, 5] };
    const result = stickyAssignment(
      [
        { id: 'b', previous: b },
        { id: 'c', previous: {} },
        { id: 'a', previous: a },
      ],
      six,
    );
    expect(counts(result)).toEqual({ a: 2, b: 2, c: 2 });
    expect(kept(a, result['a']!)).toHaveLength(2);
    expect(kept(b, result['b']!)).toHaveLength(2);
    const all = Object.values(result).flatMap((r) => r[T]!);
    expect(all.sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('a member that left: only its partitions move, spread over the others', () => {
    const before = { a: { [T]: [0, 3] }, b: { [T]: [1, 4] }, c: { [T]: [2, 5] } };
    const result = stickyAssignment(
      [
        { id: 'a', previous: before.a },
        { id: 'c', previous: before.c },
      ],
      six,
    );
    expect(counts(result)).toEqual({ a: 3, c: 3 });
    expect(kept(before.a, result['a']!)).toEqual([0, 3]);
    expect(kept(before.c, result['c']!)).toEqual([2, 5]);
  });

  it('a first assignment is balanced and each partition has one owner', () => {
    const result = stickyAssignment(
      ['x', 'y', 'z', 'w'].map((id) => ({ id, previous: {} })),
      { [T]: [0, 1, 2, 3, 4, 5], other: [0, 1] },
    );
    const sizes = Object.values(result).map((r) => r[T]?.length ?? 0);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(
      Object.values(result)
        .flatMap((r) => r[T] ?? [])
        .sort(),
    ).toEqual([0, 1, 2, 3, 4, 5]);
    // Over both topics no member gets two partitions more than another.
    const totals = Object.values(result).map(
      (r) => (r[T]?.length ?? 0) + (r['other']?.length ?? 0),
    );
    expect(Math.max(...totals) - Math.min(...totals)).toBeLessThanOrEqual(1);
  });

  it('claims on the same partition (two members both held it), gone partitions and topics: one owner each', () => {
    const result = stickyAssignment(
      [
        { id: 'a', previous: { [T]: [0, 1, 2, 9], gone: [0] } },
        { id: 'b', previous: { [T]: [0, 1, 3] } },
      ],
      six,
    );
    const all = Object.values(result).flatMap((r) => r[T]!);
    expect(all.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(counts(result)).toEqual({ a: 3, b: 3 });
    expect(Object.values(result).some((r) => 'gone' in r)).toBe(false);
  });

  it('what a member says it held is read defensively', () => {
    expect(decodeHeld(Buffer.from(JSON.stringify({ [T]: [1, 2] })))).toEqual({ [T]: [1, 2] });
    expect(decodeHeld(Buffer.from('not json'))).toEqual({});
    expect(decodeHeld(Buffer.from('[1]'))).toEqual({});
    expect(decodeHeld(Buffer.from(JSON.stringify({ [T]: [1, -1], x: 'y' })))).toEqual({});
    expect(decodeHeld(null)).toEqual({});
    expect(decodeHeld(Buffer.alloc(0))).toEqual({});
  });
});
