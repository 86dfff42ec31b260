import {
  actionRequest,
  analysisCharts,
  backfillPercent,
  drifting,
  environmentRules,
  gateBlockers,
  markIndex,
  may,
  pageServices,
  progressLine,
  releaseActions,
  sliderMarks,
  summarizeServices,
  timelineUntil,
  type ReleaseSummary,
} from './view-model';

const release = (over: Partial<ReleaseSummary>): ReleaseSummary => ({
  id: 'r',
  service: 'checkout',
  version: 'v1',
  phase: 'succeeded',
  step: 0,
  requestedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:01:00.000Z',
  ...over,
});

describe('services list', () => {
  it('gives each service its stable build, active release and last outcome', () => {
    const rows = summarizeServices([
      release({ id: 'a', version: 'v1', requestedAt: '2026-01-01T00:00:00Z' }),
      release({
        id: 'b',
        version: 'v2',
        phase: 'rolled-back',
        requestedAt: '2026-01-02T00:00:00Z',
      }),
      release({
        id: 'c',
        version: 'v3',
        phase: 'progressing',
        step: 1,
        requestedAt: '2026-01-03T00:00:00Z',
      }),
      release({ id: 'd', service: 'auth', version: 'x1', phase: 'aborted' }),
    ]);
    expect(rows).toEqual([
      {
        service: 'auth',
        stable: null,
        active: null,
        last: expect.objectContaining({ id: 'd', phase: 'aborted' }),
        releases: 1,
      },
      {
        service: 'checkout',
        stable: 'v1',
        active: { id: 'c', version: 'v3', phase: 'progressing', step: 1 },
        last: expect.objectContaining({ id: 'b', phase: 'rolled-back' }),
        releases: 3,
      },
    ]);
  });

  it('filters and pages 500 services on the server, so the browser gets one page', () => {
    const releases = Array.from({ length: 500 }, (_, n) =>
      release({
        id: `r${n}`,
        service: `svc-${String(n).padStart(3, '0')}`,
        phase: n % 5 === 0 ? 'progressing' : 'succeeded',
      }),
    );
    const started = performance.now();
    const rows = summarizeServices(releases);
    const page = pageServices(rows, { page: 3, pageSize: 50 });
    console.log(
      `500 services summarised and paged in ${Math.round(performance.now() - started)} ms`,
    );
    expect(page).toMatchObject({ total: 500, page: 3, pages: 10, pageSize: 50 });
    expect(page.rows.map((r) => r.service)[0]).toBe('svc-100');
    expect(pageServices(rows, { q: 'SVC-04' }).total).toBe(10);
    expect(pageServices(rows, { status: 'active' }).total).toBe(100);
    expect(pageServices(rows, { status: 'succeeded' }).total).toBe(400);
    // Out-of-range pages land on the last one; absurd sizes are bounded.
    expect(pageServices(rows, { page: 99, pageSize: 1000 })).toMatchObject({
      page: 3,
      pageSize: 200,
    });
  });
});

describe('what a token may do', () => {
  const deployer = { subject: 'd', scopes: ['deploy'], services: ['checkout'] };

  it('reads scopes and services the way the API does (admin implies all, services limit all)', () => {
    expect(may({ subject: 'a', scopes: ['admin'] }, 'flags')).toBe(true);
    expect(may(deployer, 'deploy', 'checkout')).toBe(true);
    expect(may(deployer, 'deploy', 'auth')).toBe(false);
    expect(may({ subject: 'a', scopes: ['admin'], services: ['auth'] }, 'deploy', 'checkout')).toBe(
      false,
    );
    expect(may(null, 'read')).toBe(false);
  });

  // The rules of libs/releases/src/decisions.ts: enabled where the API accepts with an effect.
  const enabled = (phase: string, drift: string[] = []) =>
    releaseActions({ phase, service: 'checkout', drift }, deployer)
      .filter((a) => a.enabled)
      .map((a) => a.action);
  const why = (phase: string, action: string, drift: string[] = []) =>
    releaseActions({ phase, service: 'checkout', drift }, deployer).find(
      (a) => a.action === action,
    )!.why;

  it('offers the release actions of each phase, none to a reader or on a finished release', () => {
    expect(enabled('progressing')).toEqual(['pause', 'promote', 'promote-full', 'abort']);
    expect(enabled('paused')).toEqual(['resume', 'promote', 'promote-full', 'abort']);
    for (const phase of ['succeeded', 'rolled-back', 'aborted']) expect(enabled(phase)).toEqual([]);
    expect(why('succeeded', 'pause')).toBe('not while the release is succeeded');
    expect(
      releaseActions(
        { phase: 'progressing', service: 'checkout' },
        { subject: 'r', scopes: ['read'] },
      ),
    ).toEqual([]);
    expect(releaseActions({ phase: 'progressing', service: 'auth' }, deployer)).toEqual([]);
  });

  it('pauses only a progressing release (pausing a paused one does nothing)', () => {
    expect(enabled('progressing')).toContain('pause');
    expect(enabled('progressing', ['i-1'])).toContain('pause');
    expect(why('paused', 'pause')).toBe('not while the release is paused');
    expect(why('rolling-back', 'pause')).toBe('not while the release is rolling-back');
  });

  it('resumes a paused release, and a progressing one held by drift (resume clears the hold)', () => {
    expect(enabled('paused')).toContain('resume');
    expect(enabled('progressing', ['i-1'])).toContain('resume');
    expect(why('progressing', 'resume')).toBe('not while the release is progressing');
    expect(why('rolling-back', 'resume', ['i-1'])).toBe('not while the release is rolling-back');
  });

  it('promotes (and promotes fully) only in flight, not rolling back, without drift', () => {
    for (const action of ['promote', 'promote-full']) {
      expect(why('progressing', action)).toBeNull();
      expect(why('paused', action)).toBeNull();
      expect(why('progressing', action, ['i-1', 'i-2'])).toBe(
        'not while instances drift (i-1, i-2): resume or abort',
      );
      expect(why('paused', action, ['i-1'])).toMatch(/^not while instances drift/);
      expect(why('rolling-back', action)).toBe('not while the release is rolling-back');
    }
  });

  it('aborts only in flight and not while already rolling back (the API would do nothing)', () => {
    expect(why('progressing', 'abort', ['i-1'])).toBeNull();
    expect(why('paused', 'abort')).toBeNull();
    expect(why('rolling-back', 'abort')).toBe('not while the release is rolling-back');
    expect(enabled('rolling-back')).toEqual([]);
  });

  it('sends each action as its REST call', () => {
    expect(actionRequest('promote-full', '')).toEqual({ path: 'promote', body: { full: true } });
    expect(actionRequest('abort', 'bad')).toEqual({ path: 'abort', body: { reason: 'bad' } });
    expect(actionRequest('resume', 'x')).toEqual({ path: 'resume', body: {} });
  });
});

describe('release page', () => {
  const steps: { description: string; weights: Record<string, number> }[] = [
    { description: 'canary 20%', weights: { stable: 60, baseline: 20, canary: 20 } },
    { description: 'canary 50%', weights: { baseline: 50, canary: 50 } },
    { description: 'promote', weights: { canary: 100 } },
  ];

  it('draws the progress line: done, current, to do, and where it failed', () => {
    const status = (phase: string, step: number, stepCompleted = false) =>
      progressLine({ phase, step, stepCompleted, steps }).map((s) => s.status);
    expect(status('progressing', 1)).toEqual(['done', 'current', 'todo']);
    expect(status('progressing', 1, true)).toEqual(['done', 'done', 'todo']);
    expect(status('rolled-back', 0)).toEqual(['failed', 'todo', 'todo']);
    expect(status('succeeded', 2)).toEqual(['done', 'done', 'done']);
  });

  it('charts canary against baseline per metric, one point per interval, gaps for no data', () => {
    const charts = analysisCharts(
      [
        {
          interval: 0,
          at: 't0',
          verdict: 'PASS',
          reasons: [],
          canary: { requests: 100, errors: 1, p50Ms: 5, p99Ms: 20, saturation: 0.1 },
          baseline: { requests: 100, errors: 0, p50Ms: 5, p99Ms: 10, saturation: 0.1 },
        },
        { interval: 1, at: 't1', verdict: 'NODATA', reasons: [], canary: null, baseline: null },
        {
          interval: 2,
          at: 't2',
          verdict: 'FAIL',
          reasons: ['x'],
          canary: { requests: 100, errors: 2, p50Ms: 6, p99Ms: 40, saturation: 0.2 },
          baseline: { requests: 100, errors: 0, p50Ms: 5, p99Ms: 10, saturation: 0.1 },
        },
      ],
      100,
      50,
    );
    expect(charts.map((c) => c.metric)).toEqual(['error-rate', 'p50', 'p99', 'saturation']);
    const errors = charts[0]!;
    expect(errors.max).toBe(2);
    expect(errors.points.map((p) => [p.x, p.cy, p.verdict])).toEqual([
      [6, 25, 'PASS'],
      [50, null, 'NODATA'],
      [94, 6, 'FAIL'],
    ]);
    // The pen lifts over the interval without data.
    expect(errors.canaryPath).toBe('M6 25 M94 6');
    expect(charts[2]!.baselinePath).toBe('M6 34.5 M94 34.5');
  });

  it('scales to 60 intervals x 4 metrics', () => {
    const intervals = Array.from({ length: 60 }, (_, n) => ({
      interval: n,
      at: `t${n}`,
      verdict: 'PASS',
      reasons: [],
      canary: { requests: 100, errors: n % 3, p50Ms: 5, p99Ms: 20 + n, saturation: 0.1 },
      baseline: { requests: 100, errors: 0, p50Ms: 5, p99Ms: 20, saturation: 0.1 },
    }));
    const charts = analysisCharts(intervals);
    expect(charts).toHaveLength(4);
    expect(charts.every((c) => c.points.length === 60)).toBe(true);
    expect(charts[2]!.canaryPath.split(' L').length).toBe(60);
  });

  it('highlights drift: an instance that runs something other than it was given', () => {
    expect(
      drifting({
        id: 'a',
        group: 'stable',
        healthy: true,
        intended: { digest: 'x' },
        reported: { digest: 'y' },
      }),
    ).toBe(true);
    expect(
      drifting({
        id: 'a',
        group: 'stable',
        healthy: true,
        intended: { digest: 'x' },
        reported: { digest: 'x' },
      }),
    ).toBe(false);
    expect(drifting({ id: 'a', group: 'stable', healthy: true, drifting: true })).toBe(true);
  });

  it('cuts the timeline at the slider moment, one mark per distinct instant', () => {
    const entries = [
      { n: 1, occurredAt: '2026-01-01T00:00:00.000Z' },
      { n: 2, occurredAt: '2026-01-01T00:00:00.000Z' },
      { n: 3, occurredAt: '2026-01-01T00:00:05.000Z' },
      { n: 4, occurredAt: '2026-01-01T00:00:09.000Z' },
    ];
    const marks = sliderMarks(entries);
    expect(marks).toHaveLength(3);
    expect(timelineUntil(entries, marks[1]!).map((e) => e.n)).toEqual([1, 2, 3]);
    expect(timelineUntil(entries, null)).toHaveLength(4);
    expect(markIndex(marks, '2026-01-01T00:00:07.000Z')).toBe(1);
    expect(markIndex(marks, null)).toBe(2);
  });
});

describe('flags page', () => {
  it("writes each environment's targets and rules on one line each, in evaluation order", () => {
    expect(
      environmentRules({
        targets: { allow: ['u-1', 'u-2'], deny: ['u-3'] },
        rules: [
          {
            description: 'beta',
            segments: ['staff'],
            constraints: [
              { attribute: 'plan', operator: 'IN', values: ['beta', 'pro'] },
              {
                attribute: 'country',
                operator: 'IN',
                values: ['fr'],
                inverted: true,
                caseInsensitive: true,
              },
            ],
            rollout: 25,
          },
          { constraints: [], serve: false },
          {
            constraints: [{ attribute: 'v', operator: 'SEMVER_GT', values: ['2.0.0'] }],
            variant: 'blue',
          },
        ],
      }),
    ).toEqual([
      'userId in [u-3] → off',
      'userId in [u-1, u-2] → on',
      'beta: segment staff and plan IN [beta, pro] and NOT country IN [fr] (any case) → on for 25%',
      'everyone → off',
      'v SEMVER_GT [2.0.0] → variant blue',
    ]);
    expect(environmentRules({})).toEqual([]);
    expect(environmentRules({ targets: { attribute: 'team', allow: ['a'] } })).toEqual([
      'team in [a] → on',
    ]);
  });
});

describe('migrations page', () => {
  it('shows backfill progress as a bounded percentage', () => {
    expect(backfillPercent({ rowsDone: 1500, rowsTotal: 3000 })).toBe(50);
    expect(backfillPercent({ rowsDone: 2999, rowsTotal: 3000 })).toBe(99);
    expect(backfillPercent({ rowsDone: 0, rowsTotal: 0 })).toBe(100);
  });

  it('names the live instances that block contract', () => {
    const instances = [
      { id: 'a', reported: { version: '1.0.0' } },
      { id: 'b', reported: { version: '2.0.0' } },
      { id: 'c', reported: null },
    ];
    expect(gateBlockers(instances, ['1.0.0'])).toEqual([{ id: 'a', version: '1.0.0' }]);
    expect(gateBlockers(instances, [])).toEqual([]);
  });
});
