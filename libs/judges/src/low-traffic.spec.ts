import { lowTrafficPolicy, resolveLowTrafficSettings, shareNeeded } from './low-traffic';

const settings = { minimumRequests: 200, maxWindowFactor: 3 };

describe('low-traffic policy', () => {
  it('changes nothing when the planned window reaches the minimum sample', () => {
    // 10 req/s per group: 200 requests after 20 s, inside a 60 s window.
    const decision = lowTrafficPolicy(
      { canaryRequests: 100, baselineRequests: 100, elapsedSeconds: 10, windowSeconds: 60 },
      settings,
    );
    expect(decision).toMatchObject({ policy: 'normal', windowSeconds: 60, reason: null });
    expect(decision.secondsToMinimum).toBeCloseTo(20);
  });

  it('extends the window to the estimated time when that stays under the ceiling', () => {
    // 2.25 req/s per group on average: 200 requests take 89 s; the plan is 60 s.
    const decision = lowTrafficPolicy(
      { canaryRequests: 25, baselineRequests: 20, elapsedSeconds: 10, windowSeconds: 60 },
      settings,
    );
    expect(decision.policy).toBe('extend-window');
    expect(decision.windowSeconds).toBe(89);
    expect(decision.reason).toMatch(/window is extended to 89 s \(ceiling 180 s\)/);
  });

  it('falls back to the threshold judge below the floor, and says so', () => {
    // 0.4 req/s: 500 s for 200 requests, beyond 3 × 12 s.
    const decision = lowTrafficPolicy(
      {
        canaryRequests: 2,
        baselineRequests: 2,
        elapsedSeconds: 5,
        windowSeconds: 12,
        canarySharePercent: 20,
      },
      settings,
    );
    expect(decision.policy).toBe('threshold-fallback');
    expect(decision.windowSeconds).toBe(12);
    expect(decision.secondsToMinimum).toBeCloseTo(500);
    expect(decision.reason).toMatch(/threshold judge/);
    expect(decision.reason).toMatch(/floor of 5\.56 req\/s/);
    // Even half of all traffic would not be enough here, so no share is suggested.
    expect(decision.reason).not.toMatch(/canary share of/);
  });

  it('suggests a larger canary share when one within 50% would do', () => {
    // 5 req/s per group at a 5% share, 30 s window: 10% gives 10 req/s → 300 requests in 30 s.
    const decision = lowTrafficPolicy(
      {
        canaryRequests: 25,
        baselineRequests: 25,
        elapsedSeconds: 5,
        windowSeconds: 10,
        canarySharePercent: 5,
      },
      { minimumRequests: 200, maxWindowFactor: 2 },
    );
    expect(decision.policy).toBe('threshold-fallback');
    expect(decision.reason).toMatch(/canary share of 20% would reach the minimum/);
  });

  it('treats no traffic at all as below the floor', () => {
    const decision = lowTrafficPolicy(
      { canaryRequests: 0, baselineRequests: 0, elapsedSeconds: 10, windowSeconds: 60 },
      settings,
    );
    expect(decision.policy).toBe('threshold-fallback');
    expect(decision.secondsToMinimum).toBe(Infinity);
    expect(decision.reason).toMatch(/cannot be estimated/);
  });

  it('validates its settings', () => {
    expect(resolveLowTrafficSettings({})).toEqual(settings);
    expect(() => resolveLowTrafficSettings({ maxWindowFactor: 4 })).toThrow(
      'lowTraffic.maxWindowFactor must be between 1 and 3',
    );
    expect(() => resolveLowTrafficSettings({ minimumRequests: 0 })).toThrow(/minimumRequests/);
  });

  describe('share raise', () => {
    // A 2 req/s service at a 10% share: 0.2 req/s per group; 40 requests per group needed; the
    // 30 s window may grow to 90 s.
    const small = { minimumRequests: 40, maxWindowFactor: 3 };
    const early = {
      canaryRequests: 1,
      baselineRequests: 1,
      elapsedSeconds: 5,
      windowSeconds: 30,
      canarySharePercent: 10,
    };

    it('computes the share that brings the missing requests before the ceiling', () => {
      // 0.02 req/s per percent; 39 requests in the 85 s left need 0.46 req/s: 23%.
      expect(shareNeeded(early, small, 90)).toBe(23);
      expect(shareNeeded({ ...early, canarySharePercent: undefined }, small, 90)).toBeNull();
      expect(shareNeeded({ ...early, elapsedSeconds: 90 }, small, 90)).toBeNull();
      expect(
        shareNeeded({ ...early, canaryRequests: 0, baselineRequests: 0 }, small, 90),
      ).toBeNull();
    });

    it('raises canary and baseline (with a margin) instead of falling back, and says so', () => {
      const decision = lowTrafficPolicy(early, small, { maxPercent: 50 });
      expect(decision).toMatchObject({
        policy: 'raise-share',
        sharePercent: 35,
        windowSeconds: 90,
      });
      expect(decision.reason).toMatch(
        /raised from 10% to 35% to reach 40 requests per group within the 90 s ceiling/,
      );
    });

    it('never raises beyond the cap, nor beyond 50%', () => {
      expect(lowTrafficPolicy(early, small, { maxPercent: 30 })).toMatchObject({
        policy: 'raise-share',
        sharePercent: 30,
      });
      const refused = lowTrafficPolicy(early, small, { maxPercent: 20 });
      expect(refused.policy).toBe('threshold-fallback');
      expect(refused.sharePercent).toBeUndefined();
      expect(refused.reason).toMatch(/would take 23% each, above the policy's cap of 20%/);
      const slow = { ...early, canarySharePercent: 40 };
      expect(lowTrafficPolicy(slow, small, { maxPercent: 90 }).policy).toBe('threshold-fallback');
    });

    it('does not raise when extending the window is enough', () => {
      const decision = lowTrafficPolicy(
        { ...early, canaryRequests: 3, baselineRequests: 3 },
        small,
        { maxPercent: 50 },
      );
      expect(decision.policy).toBe('extend-window');
      expect(decision.sharePercent).toBeUndefined();
    });

    it('keeps the window open to the ceiling once raised, then compares or falls back', () => {
      const raise = { maxPercent: 50, raisedToPercent: 35 };
      const waiting = lowTrafficPolicy(
        { ...early, canaryRequests: 10, baselineRequests: 10, elapsedSeconds: 30 },
        small,
        raise,
      );
      expect(waiting).toMatchObject({ policy: 'raise-share', windowSeconds: 90, sharePercent: 35 });
      const enough = lowTrafficPolicy(
        { ...early, canaryRequests: 45, baselineRequests: 44, elapsedSeconds: 60 },
        small,
        raise,
      );
      expect(enough).toMatchObject({ policy: 'extend-window', windowSeconds: 60 });
      // Judged over the extended window, the step is normal now, and still says it was raised.
      const closed = lowTrafficPolicy(
        {
          ...early,
          canaryRequests: 45,
          baselineRequests: 44,
          elapsedSeconds: 60,
          windowSeconds: 60,
        },
        small,
        raise,
      );
      expect(closed.policy).toBe('normal');
      expect(closed.reason).toBe(
        'the canary and baseline shares were raised to 35% each (cap 50%)',
      );
      expect(enough.reason).toMatch(/shares were raised to 35% each \(cap 50%\)/);
      const short = lowTrafficPolicy(
        { ...early, canaryRequests: 20, baselineRequests: 20, elapsedSeconds: 90 },
        small,
        raise,
      );
      expect(short.policy).toBe('threshold-fallback');
      expect(short.reason).toMatch(/threshold judge.*raised to 35% each/);
    });
  });
});
