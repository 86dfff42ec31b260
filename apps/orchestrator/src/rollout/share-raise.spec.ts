import { raisedWeights } from './share-raise';

describe('raisedWeights', () => {
  it('raises canary and baseline equally, taken from the stable set', () => {
    expect(raisedWeights({ stable: 80, baseline: 10, canary: 10 }, 35)).toEqual({
      stable: 30,
      baseline: 35,
      canary: 35,
    });
  });

  it('never goes beyond 50% each, leaving the stable set empty at most', () => {
    expect(raisedWeights({ stable: 90, baseline: 5, canary: 5 }, 80)).toEqual({
      stable: 0,
      baseline: 50,
      canary: 50,
    });
  });

  it('never lowers a share, and leaves steps without a baseline as planned', () => {
    const planned = { stable: 50, baseline: 25, canary: 25 };
    expect(raisedWeights(planned, 20)).toBe(planned);
    expect(raisedWeights({ canary: 100 }, 40)).toEqual({ canary: 100 });
  });
});
