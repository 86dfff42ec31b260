import { groupForBucket, stickyBucket, fullWeights } from '@rollgate/data-planes';
import { lastSent, mixRotation, stickyIdsFor } from './synthetic-traffic';

describe('synthetic traffic', () => {
  it('finds sticky ids the data plane sends to each group', () => {
    const weights = { stable: 80, baseline: 10, canary: 10 };
    for (const group of ['canary', 'baseline'] as const) {
      const ids = stickyIdsFor(group, weights, 20);
      expect(ids).toHaveLength(20);
      for (const id of ids)
        expect(groupForBucket(stickyBucket(id), fullWeights(weights))).toBe(group);
    }
    expect(stickyIdsFor('baseline', { canary: 100 }, 5)).toEqual([]);
  });

  it('sends the mix in proportion to its weights, interleaved', () => {
    const next = mixRotation([
      { method: 'GET', path: '/work', weight: 3 },
      { method: 'POST', path: '/checkout', weight: 1 },
    ]);
    const paths = Array.from({ length: 8 }, () => next().path);
    expect(paths.filter((p) => p === '/checkout')).toHaveLength(2);
    expect(paths.slice(0, 4).filter((p) => p === '/checkout')).toHaveLength(1);
  });

  it('reads the last counts the generator printed', () => {
    const output =
      '{"sent":{"canary":1,"baseline":1}}\nnoise\n{"sent":{"canary":7,"baseline":6}}\n';
    expect(lastSent(output)).toEqual({ canary: 7, baseline: 6 });
    expect(lastSent('')).toEqual({ canary: 0, baseline: 0 });
  });
});
