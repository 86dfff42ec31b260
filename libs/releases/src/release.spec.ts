import { eventCatalog, type EventEnvelope, type NewEvent } from '@rollgate/contracts';
import { DomainError, fold } from '@rollgate/event-sourcing';
import {
  decideAbort,
  decideAdvance,
  decideCompleteStep,
  decideDrift,
  decidePause,
  decidePauseTimeout,
  decidePromote,
  decideRequestRelease,
  decideResume,
  decideRollbackDone,
  decideStepFailed,
  decideStepOverdue,
  decideVerdict,
  evolveReleaseSummary,
  planProblems,
  serviceReleases,
  stepsOf,
  DEFAULT_PLAN,
  type ServiceReleasesState,
} from './index';

const origin = { actor: 'service:orchestrator', causationId: null };
const digest = `sha256:${'c'.repeat(64)}`;

/** A tiny event-sourced harness: decide against the fold, append with increasing time. */
class History {
  events: EventEnvelope[] = [];
  private clock = Date.UTC(2026, 0, 1);

  get state(): ServiceReleasesState {
    return fold(serviceReleases, this.events);
  }

  apply(decide: (state: ServiceReleasesState) => NewEvent[]): NewEvent[] {
    const decided = decide(this.state);
    for (const event of decided) {
      this.clock += 1000;
      this.events.push(
        eventCatalog.create(
          { ...event, sequence: this.events.length + 1 },
          () => new Date(this.clock),
        ),
      );
    }
    return decided;
  }

  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

const request =
  (releaseId: string, strategy: 'canary' | 'rolling' | 'blue-green' = 'canary', plan = {}) =>
  (s: ServiceReleasesState) =>
    decideRequestRelease(s, {
      ...origin,
      releaseId,
      service: 'checkout',
      artifact: { name: 'checkout', digest },
      strategy,
      plan,
    });

/** A service whose first release (r0) already succeeded, so r1 has a stable version to beat. */
function requested(strategy: 'canary' | 'rolling' | 'blue-green' = 'canary', plan = {}) {
  const history = new History();
  history.apply(request('r0'));
  history.apply((s) => decideAdvance(s, 'r0', origin));
  history.apply((s) => decideCompleteStep(s, 'r0', 0, 'healthy', origin));
  history.apply((s) => decideAdvance(s, 'r0', origin));
  history.apply((s) =>
    decideRequestRelease(s, {
      ...origin,
      releaseId: 'r1',
      service: 'checkout',
      artifact: { name: 'checkout', digest },
      strategy,
      plan,
    }),
  );
  return history;
}

describe('release plan', () => {
  it('gives a canary a same-share baseline at every step, then promotes', () => {
    expect(stepsOf('canary', DEFAULT_PLAN).map((s) => s.weights)).toEqual([
      { stable: 90, baseline: 5, canary: 5 },
      { stable: 50, baseline: 25, canary: 25 },
      { stable: 0, baseline: 50, canary: 50 },
      { canary: 100 },
    ]);
  });

  it('replaces a rolling release in batches of maxSurge', () => {
    const steps = stepsOf('rolling', { ...DEFAULT_PLAN, replicas: 4, maxSurge: 1 });
    expect(steps.map((s) => s.weights)).toEqual([
      { stable: 75, canary: 25 },
      { stable: 50, canary: 50 },
      { stable: 25, canary: 75 },
      { canary: 100 },
    ]);
    expect(steps.map((s) => s.newInstances)).toEqual([1, 2, 3, 4]);
  });

  it('switches blue-green at once and keeps blue warm', () => {
    expect(stepsOf('blue-green', DEFAULT_PLAN).map((s) => [s.weights, s.gate])).toEqual([
      [{ blue: 100 }, 'health'],
      [{ green: 100 }, 'health'],
      [{ green: 100 }, 'warm'],
    ]);
  });

  it('names the field of a bad plan', () => {
    expect(planProblems('canary', { ...DEFAULT_PLAN, canarySteps: [10, 5, 60] })).toEqual([
      { field: 'plan.canarySteps[1]', problem: 'weights must increase step by step' },
      { field: 'plan.canarySteps[2]', problem: expect.stringContaining('at most 50') },
    ]);
    expect(planProblems('rolling', { ...DEFAULT_PLAN, replicas: 2, maxSurge: 3 })).toEqual([
      { field: 'plan.maxSurge', problem: 'must not exceed replicas (2)' },
    ]);
  });
});

describe('release decisions', () => {
  it('deploys the first release of a service in one step: there is nothing to compare with', () => {
    const history = new History();
    history.apply(request('r0'));
    expect(history.state.active?.steps.map((s) => s.description)).toEqual(['first deploy']);
    history.apply((s) => decideAdvance(s, 'r0', origin));
    history.apply((s) => decideCompleteStep(s, 'r0', 0, 'healthy', origin));
    history.apply((s) => decideAdvance(s, 'r0', origin));
    expect(history.types()).toEqual([
      'ReleaseRequested',
      'ReleaseStepStarted',
      'ReleaseStepCompleted',
      'ReleaseSucceeded',
    ]);
    expect(history.state.stable?.artifact.digest).toBe(digest);
    expect(
      history.apply(request('r1')).map((e) => (e.data as { firstRelease?: boolean }).firstRelease),
    ).toEqual([undefined]);
  });

  it('walks a good canary through every step to success, and the new build becomes stable', () => {
    const history = requested();
    for (let step = 0; step < 3; step++) {
      history.apply((s) => decideAdvance(s, 'r1', origin));
      history.apply((s) => decideVerdict(s, 'r1', step, 'PASS', ['error rate equal'], origin));
    }
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decideCompleteStep(s, 'r1', 3, 'all instances healthy', origin));
    history.apply((s) => decideAdvance(s, 'r1', origin));
    const ofR1 = history.events.filter((e) => e.correlationId === 'r1').map((e) => e.type);
    expect(ofR1.filter((t) => t === 'ReleaseStepStarted')).toHaveLength(4);
    expect(history.types().at(-1)).toBe('ReleaseSucceeded');
    expect(history.state.active).toBeNull();
    expect(history.state.stable).toEqual({
      artifact: { name: 'checkout', digest },
      version: 'cccccccccccc',
      replicas: 2,
    });
  });

  it('is idempotent: re-running a step decision adds nothing', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    expect(history.apply((s) => decideAdvance(s, 'r1', origin))).toEqual([]);
    history.apply((s) => decideVerdict(s, 'r1', 0, 'PASS', [], origin));
    expect(history.apply((s) => decideVerdict(s, 'r1', 0, 'PASS', [], origin))).toEqual([]);
    expect(history.apply((s) => decideCompleteStep(s, 'r1', 0, 'again', origin))).toEqual([]);
  });

  it('rolls back on FAIL and on NODATA, never promotes', () => {
    for (const verdict of ['FAIL', 'NODATA'] as const) {
      const history = requested();
      history.apply((s) => decideAdvance(s, 'r1', origin));
      history.apply((s) =>
        decideVerdict(s, 'r1', 0, verdict, ['canary errors 5x baseline'], origin),
      );
      expect(history.state.active?.phase).toBe('rolling-back');
      expect(history.apply((s) => decideAdvance(s, 'r1', origin))).toEqual([]);
      history.apply((s) => decideRollbackDone(s, 'r1', origin));
      expect(history.types().slice(-2)).toEqual(['ReleaseRollbackStarted', 'ReleaseRolledBack']);
      expect(history.state.active).toBeNull();
      expect(history.state.stable?.artifact.digest).toBe(digest);
    }
  });

  it('pauses on MARGINAL and rolls back when nobody decides in time', () => {
    const history = requested('canary', { marginalTimeoutSeconds: 60 });
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decideVerdict(s, 'r1', 0, 'MARGINAL', ['p99 +12%'], origin));
    const pausedAt = Date.parse(history.state.active!.pausedAt!);
    expect(
      history.apply((s) => decidePauseTimeout(s, 'r1', new Date(pausedAt + 59_000), origin)),
    ).toEqual([]);
    history.apply((s) => decidePauseTimeout(s, 'r1', new Date(pausedAt + 60_000), origin));
    expect(history.state.active?.phase).toBe('rolling-back');
    expect(history.state.active?.reason).toContain('without a decision');
  });

  it('rolls back a step that waits too long on a silent router or analysis', () => {
    const history = requested('canary', { stepSeconds: 10 });
    history.apply((s) => decideAdvance(s, 'r1', origin));
    const started = Date.parse(history.state.active!.stepStartedAt!);
    expect(
      history.apply((s) => decideStepOverdue(s, 'r1', new Date(started + 89_000), origin)),
    ).toEqual([]);
    history.apply((s) => decideStepOverdue(s, 'r1', new Date(started + 90_000), origin));
    expect(history.state.active?.phase).toBe('rolling-back');
    expect(history.state.active?.reason).toBe(
      'step 0 (canary 5% (baseline 5%)) did not complete within 90s',
    );
  });

  it("keeps a person's pause, but rolls back on a FAIL that arrives while paused", () => {
    const history = requested('canary', { marginalTimeoutSeconds: 60 });
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decidePause(s, 'r1', 'waiting for the launch', origin));
    const pausedAt = Date.parse(history.state.active!.pausedAt!);
    expect(
      history.apply((s) => decidePauseTimeout(s, 'r1', new Date(pausedAt + 3_600_000), origin)),
    ).toEqual([]);
    expect(history.apply((s) => decideVerdict(s, 'r1', 0, 'PASS', [], origin))).toEqual([]);
    history.apply((s) => decideVerdict(s, 'r1', 0, 'FAIL', ['errors 5x'], origin));
    expect(history.state.active?.phase).toBe('rolling-back');
  });

  it('promote --full skips the remaining canary steps', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decidePromote(s, 'r1', true, { actor: 'user:alice', causationId: null }));
    history.apply((s) => decideAdvance(s, 'r1', origin));
    const started = history.events
      .filter((e) => e.type === 'ReleaseStepStarted' && e.correlationId === 'r1')
      .map((e) => (e.data as { step: number }).step);
    expect(started).toEqual([0, 3]);
  });

  it('holds a release with drifting instances until a person resumes it', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decideVerdict(s, 'r1', 0, 'PASS', [], origin));
    const drift = [
      {
        instanceId: 'checkout-canary-1',
        intendedDigest: digest,
        reportedDigest: `sha256:${'0'.repeat(64)}`,
      },
    ];
    expect(history.apply((s) => decideDrift(s, drift, origin))).toHaveLength(1);
    expect(history.apply((s) => decideDrift(s, drift, origin))).toEqual([]);
    expect(history.apply((s) => decideAdvance(s, 'r1', origin))).toEqual([]);
    expect(() => decidePromote(history.state, 'r1', false, origin)).toThrow(/drifting instances/);
    history.apply((s) => decideResume(s, 'r1', origin));
    expect(history.apply((s) => decideAdvance(s, 'r1', origin)).map((e) => e.type)).toEqual([
      'ReleaseStepStarted',
    ]);
  });

  it('rolls back when the data plane cannot confirm a route', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) =>
      decideStepFailed(s, 'r1', 'route not confirmed: haproxy unreachable', origin),
    );
    expect(history.state.active?.phase).toBe('rolling-back');
    expect(history.state.active?.reason).toBe('route not confirmed: haproxy unreachable');
    // Once rolling back, a second failure adds nothing.
    expect(history.apply((s) => decideStepFailed(s, 'r1', 'again', origin))).toEqual([]);
  });

  it('refuses commands that make no sense in the current phase, with the reason', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) =>
      decideAbort(s, 'r1', 'bad idea', { actor: 'user:bob', causationId: null }),
    );
    expect(() => decidePause(history.state, 'r1', 'x', origin)).toThrow(DomainError);
    expect(() => decidePromote(history.state, 'r1', false, origin)).toThrow(/rolling back/);
    expect(() => decideResume(history.state, 'r1', origin)).toThrow(
      /rolling back: it cannot be resumed/,
    );
    expect(history.apply((s) => decideAbort(s, 'r1', 'again', origin))).toEqual([]);
    history.apply((s) => decideRollbackDone(s, 'r1', origin));
    expect(() => decideResume(history.state, 'r1', origin)).toThrow(/already ended/);
    expect(() => decideResume(history.state, 'nope', origin)).toThrow(/does not exist/);
  });

  it('aborting before any step needs no rollback work', () => {
    const history = requested();
    history.apply((s) =>
      decideAbort(s, 'r1', 'wrong build', { actor: 'user:bob', causationId: null }),
    );
    expect(history.types().slice(-3)).toEqual([
      'ReleaseRequested',
      'ReleaseAborted',
      'ReleaseRolledBack',
    ]);
    expect(history.state.active).toBeNull();
  });

  it('keeps one active release per service and names it', () => {
    const history = requested();
    expect(() =>
      decideRequestRelease(history.state, {
        ...origin,
        releaseId: 'r2',
        service: 'checkout',
        artifact: { name: 'checkout', digest },
        strategy: 'canary',
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'conflict',
        details: { activeReleaseId: 'r1' },
      }) as DomainError,
    );
  });

  it('summarises one release for read models, final phase included', () => {
    const history = requested();
    history.apply((s) => decideAdvance(s, 'r1', origin));
    history.apply((s) => decideAbort(s, 'r1', 'bad', { actor: 'user:bob', causationId: null }));
    history.apply((s) => decideRollbackDone(s, 'r1', origin));
    const summary = history.events.reduce(evolveReleaseSummary, undefined);
    expect(summary).toMatchObject({
      releaseId: 'r1',
      phase: 'aborted',
      step: 0,
      reason: 'aborted by user:bob: bad',
    });
  });
});
