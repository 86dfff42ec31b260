import { lowTrafficPolicy, resolveLowTrafficSettings } from './low-traffic';

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
});
