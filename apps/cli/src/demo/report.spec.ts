import {
  formatReleaseReport,
  releaseReport,
  type ServedRequest,
  type TimelineEvent,
} from './report';

const T0 = Date.parse('2026-12-06T03:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const event = (
  type: string,
  offsetMs: number,
  details: Record<string, unknown> = {},
  reason: string | null = null,
): TimelineEvent => ({ type, occurredAt: iso(offsetMs), reason, details });
const routed = (offsetMs: number, weights: Record<string, number>) =>
  event('RouteApplied', offsetMs, { weights: { stable: 0, baseline: 0, canary: 0, ...weights } });

/** One request a second from `from` to `to` (ms after T0), answered 20 ms later. */
function requests(
  from: number,
  to: number,
  answer: (sentAt: number) => Pick<ServedRequest, 'version' | 'group' | 'failed'>,
): ServedRequest[] {
  const served: ServedRequest[] = [];
  for (let at = from; at <= to; at += 1000)
    served.push({ sentAt: T0 + at, answeredAt: T0 + at + 20, ...answer(at) });
  return served;
}

const stable = { version: 'v1', group: 'stable', failed: false };
const release = { releaseId: 'r-1', version: 'v2', strategy: 'canary' };

describe('demo release report', () => {
  // Requested at 0; canary 10% from 2 s; the analysis fails it at 20.5 s; stable 100% at 21.5 s.
  const rolledBack = [
    event('ReleaseRequested', 0),
    event('ReleaseStepStarted', 100),
    routed(2_000, { stable: 80, baseline: 10, canary: 10 }),
    event('AnalysisVerdictReached', 20_400),
    event('ReleaseRollbackStarted', 20_500, {}, 'analysis FAIL at step 0: error-rate'),
    routed(21_500, { stable: 100 }),
    event('ReleaseRolledBack', 22_000),
  ];
  // Every fifth request from 3 s on reaches the canary (v2), which fails one in two of them.
  const served = [
    ...requests(-5_000, -1_000, () => stable), // before the release: not counted
    ...requests(0, 30_000, (at) =>
      at >= 3_000 && at <= 21_000 && at % 5_000 === 0
        ? { version: 'v2', group: 'canary', failed: at % 10_000 === 0 }
        : at === 7_000
          ? { version: null, group: null, failed: true } // a timeout: no instance answered
          : stable,
    ),
  ];

  it('measures a rollback from the first request the new version answered', () => {
    const report = releaseReport({ ...release, phase: 'rolled-back' }, rolledBack, served);
    // The canary first answered the request sent at 5 s, 20 ms later.
    expect(report).toMatchObject({
      version: 'v2',
      strategy: 'canary',
      releaseId: 'r-1',
      outcome: 'rolled_back',
      reason: 'analysis FAIL at step 0: error-rate',
      detectedAfterMs: 20_500 - 5_020,
      rollbackCompletedAfterMs: 21_500 - 5_020,
      peakNewVersionPercent: 10,
    });
  });

  it('counts the requests sent while the release ran, by group and by version', () => {
    const report = releaseReport({ ...release, phase: 'rolled-back' }, rolledBack, served);
    // Sent at 0, 1, ..., 22 s: 23 requests; v2 answered those of 5, 10, 15 and 20 s.
    expect(report.requests).toEqual({ total: 23, failed: 3 });
    expect(report.requestsByGroup).toEqual({
      stable: { total: 18, failed: 0 },
      canary: { total: 4, failed: 2 },
      unanswered: { total: 1, failed: 1 },
    });
    expect(report.requestsByVersion).toEqual({
      v1: { total: 18, failed: 0 },
      v2: { total: 4, failed: 2 },
      unanswered: { total: 1, failed: 1 },
    });
  });

  it('has no detection or rollback time for a promoted release', () => {
    const promoted = [
      event('ReleaseRequested', 0),
      routed(2_000, { stable: 50, baseline: 25, canary: 25 }),
      routed(9_000, { canary: 100 }),
      routed(10_000, { stable: 100 }),
      event('ReleaseSucceeded', 10_500),
    ];
    const report = releaseReport({ ...release, phase: 'succeeded' }, promoted, served);
    expect(report).toMatchObject({
      outcome: 'promoted',
      reason: null,
      detectedAfterMs: null,
      rollbackCompletedAfterMs: null,
      peakNewVersionPercent: 100,
      requests: { total: 11, failed: 2 },
    });
  });

  it('ends a paused release at its pause, when the demo stopped watching it', () => {
    const paused = [
      event('ReleaseRequested', 0),
      routed(2_000, { stable: 90, baseline: 5, canary: 5 }),
      event('ReleasePaused', 12_000, {}, 'analysis MARGINAL at step 0'),
    ];
    const report = releaseReport({ ...release, phase: 'paused' }, paused, served);
    expect(report).toMatchObject({
      outcome: 'paused',
      reason: 'analysis MARGINAL at step 0',
      detectedAfterMs: 12_000 - 5_020,
      rollbackCompletedAfterMs: null,
      peakNewVersionPercent: 5,
      requests: { total: 13, failed: 2 },
    });
  });

  it('has no times when the new version never answered (a build that never started)', () => {
    const crashed = [
      event('ReleaseRequested', 0),
      event('ReleaseRollbackStarted', 3_000, {}, 'instance did not start'),
      routed(3_500, { stable: 100 }),
      event('ReleaseRolledBack', 4_000),
    ];
    const report = releaseReport({ ...release, phase: 'rolled-back' }, crashed, served);
    expect(report).toMatchObject({
      outcome: 'rolled_back',
      detectedAfterMs: null,
      rollbackCompletedAfterMs: null,
      peakNewVersionPercent: 0,
      requests: { total: 5, failed: 0 },
    });
  });

  it('says in words what happened and what the users saw', () => {
    const report = releaseReport({ ...release, phase: 'rolled-back' }, rolledBack, served);
    expect(formatReleaseReport(report)).toEqual([
      'v2 (canary): rolled back: detected 15.5 s after it answered its first request, all traffic on stable again after 16.5 s',
      '  users: 3 of 23 requests failed (13.0%); stable 0/18 failed, canary 2/4 failed, unanswered 1/1 failed',
      '  v2 never took more than 10% of the traffic',
    ]);
  });
});
