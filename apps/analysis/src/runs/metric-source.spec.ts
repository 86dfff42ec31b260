import { minus, wentBackwards, type GroupCounters } from './metric-source';

const counters = (canary: number, baseline: number, errors = 0): GroupCounters => ({
  canary: { requests: canary, errors },
  baseline: { requests: baseline, errors: 0 },
});

describe('metric source counters', () => {
  it('differences cumulative counters, clamped unless signed', () => {
    expect(minus(counters(150, 120, 3), counters(100, 100, 1))).toEqual(counters(50, 20, 2));
    expect(minus(counters(10, 10), counters(100, 100))).toEqual(counters(0, 0));
    expect(minus(counters(10, 10), counters(100, 100), true)).toEqual(counters(-90, -90));
  });

  it('recognises a source that restarted its counters', () => {
    expect(wentBackwards(counters(-90, -90), counters(0, 0))).toBe(true);
    expect(wentBackwards(counters(40, 40), counters(50, 30))).toBe(true);
    expect(wentBackwards(counters(60, 40), counters(50, 30))).toBe(false);
  });
});
