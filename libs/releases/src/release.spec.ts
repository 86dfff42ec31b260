import fc from 'fast-check';
import {
  eventCatalog,
  type EventEnvelope,
  type NewEvent,
  type ReleasePlan,
} from '@rollgate/contracts';
import { DomainError, fold } from '@rollgate/event-sourcing';
import {
  decideAbort,
  decideAdvance,
  decideApiGate,
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
  (releaseId: string, options: { first?: boolean } = {}) =>
  (s: ServiceReleasesState) =>
    decideRequestRelease(s, {
      ...origin,
      releaseId,
      service: 'checkout',
      artifact: { name: 'checkout', digest },
      strategy: 'canary',
      ...options,
    });

/** A service whose first release (r0) already succeeded, so r1 has a stable version to beat. */
function requested(strategy: 'canary' | 'rolling' | 'blue-green' = 'canary', plan = {}) {
  const history = new History();
  history.apply(request('r0', { first: true }));
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

  it('takes one old instance out before each new one starts with maxSurge 0 / maxUnavailable 1', () => {
    const steps = stepsOf('rolling', {
      ...DEFAULT_PLAN,
      replicas: 3,
      maxSurge: 0,
      maxUnavailable: 1,
    });
    expect(steps.map((s) => [s.keepStable, s.newInstances, s.weights])).toEqual([
      [2, 0, { stable: 100 }],
      [2, 1, { stable: 67, canary: 33 }],
      [1, 1, { stable: 50, canary: 50 }],
      [1, 2, { stable: 33, canary: 67 }],
      [0, 2, { canary: 100 }],
      [0, 3, { canary: 100 }],
    ]);
  });

  /**
   * Runs rolling steps the way the reconciler does: new instances start (not routed yet, the old
   * ones still run), then the step's route drops the old ones it does not keep, then they stop.
   */
  function runRolling(plan: ReleasePlan) {
    let routed = { old: plan.replicas, fresh: 0 };
    let minServing = plan.replicas;
    let maxRunning = plan.replicas;
    for (const step of stepsOf('rolling', plan)) {
      const keep = step.keepStable!;
      expect(keep).toBeLessThanOrEqual(routed.old);
      expect(step.newInstances).toBeGreaterThanOrEqual(routed.fresh);
      maxRunning = Math.max(maxRunning, routed.old + step.newInstances);
      routed = { old: keep, fresh: step.newInstances };
      minServing = Math.min(minServing, keep + step.newInstances);
      // Traffic only where instances of that build are routed.
      const { stable = 0, canary = 0 } = step.weights;
      expect(stable + canary).toBe(100);
      expect([stable > 0, canary > 0]).toEqual([keep > 0, step.newInstances > 0]);
    }
    return { minServing, maxRunning, routed };
  }

  it('keeps a rolling release within replicas - maxUnavailable and replicas + maxSurge, for every usable plan', () => {
    const plans = fc
      .integer({ min: 1, max: 50 })
      .chain((replicas) =>
        fc.record({
          replicas: fc.constant(replicas),
          maxSurge: fc.integer({ min: 0, max: replicas }),
          maxUnavailable: fc.integer({ min: 0, max: replicas - 1 }),
        }),
      )
      .map((p) => ({ ...DEFAULT_PLAN, ...p }))
      .filter((plan) => planProblems('rolling', plan).length === 0);
    fc.assert(
      fc.property(plans, (plan) => {
        const { minServing, maxRunning, routed } = runRolling(plan);
        expect(minServing).toBeGreaterThanOrEqual(plan.replicas - plan.maxUnavailable);
        expect(maxRunning).toBeLessThanOrEqual(plan.replicas + plan.maxSurge);
        expect(routed).toEqual({ old: 0, fresh: plan.replicas });
      }),
    );
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
    expect(
      planProblems('rolling', { ...DEFAULT_PLAN, replicas: 2, maxSurge: 0, maxUnavailable: 0 }),
    ).toEqual([{ field: 'plan.maxUnavailable', problem: expect.stringContaining('at least 1') }]);
    expect(
      planProblems('rolling', { ...DEFAULT_PLAN, replicas: 2, maxSurge: 0, maxUnavailable: 2 }),
    ).toEqual([
      {
        field: 'plan.maxUnavailable',
        problem: 'must be below replicas (2): at least one instance keeps serving',
      },
    ]);
  });
});

describe('release decisions', () => {
  it('deploys the first release of a service in one step: there is nothing to compare with', () => {
    const history = new History();
    history.apply(request('r0', { first: true }));
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

  it('refuses the release of an unknown service unless it says it is the first, naming the field', () => {
    const history = new History();
    expect(() => history.apply(request('r0'))).toThrow(
      expect.objectContaining({
        code: 'invalid',
        details: {
          field: 'service',
          problem: 'unknown service "checkout"; send first: true to create it',
        },
      }) as DomainError,
    );
    expect(history.events).toEqual([]);
    history.apply(request('r0', { first: true }));
    history.apply((s) => decideAbort(s, 'r0', 'wrong build', origin));
    // Still no stable build: the next release also goes to 100% at once, so it must say so again.
    expect(() => history.apply(request('r1'))).toThrow(/has no stable build/);
    expect(history.apply(request('r1', { first: true }))).toHaveLength(1);
  });

  it('refuses first: true with 409 once the service has a stable build', () => {
    const history = requested();
    history.apply((s) => decideAbort(s, 'r1', 'wrong build', origin));
    expect(() => history.apply(request('r2', { first: true }))).toThrow(
      expect.objectContaining({
        code: 'conflict',
        details: expect.objectContaining({ field: 'first' }),
      }) as DomainError,
    );
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

describe('the API compatibility gate in the release decisions', () => {
  const origin = { actor: 'user:ci', causationId: null };
  const request = {
    ...origin,
    releaseId: 'r-api',
    service: 'orders',
    artifact: { name: 'orders', digest: `sha256:${'c'.repeat(64)}` },
    strategy: 'rolling' as const,
    first: true,
  };
  const breaking = {
    verdict: 'breaking' as const,
    findings: ['orders 2.0 removes GET /orders/{id} response field "total", read by checkout 1.4'],
    notes: [],
  };
  const envelope = (events: ReturnType<typeof decideRequestRelease>, from = 1) =>
    events.map((e, i) => ({
      ...e,
      id: `e${from + i}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      sequence: from + i,
    }));
  const stateOf = (events: ReturnType<typeof decideRequestRelease>) =>
    fold(serviceReleases, envelope(events) as never);

  it('refuses a breaking release under refuse (409) and records nothing', () => {
    const initial = serviceReleases.initial();
    expect(() =>
      decideRequestRelease(initial, { ...request, apiGate: { ...breaking, policy: 'refuse' } }),
    ).toThrow(/refused by the API compatibility gate: orders 2.0 removes/);
  });

  it('holds a breaking release under hold until a later check is compatible', () => {
    const requested = decideRequestRelease(serviceReleases.initial(), {
      ...request,
      apiGate: { ...breaking, policy: 'hold' },
    });
    expect(requested.map((e) => e.type)).toEqual(['ReleaseRequested', 'ReleaseApiGateChecked']);
    const held = stateOf(requested);
    expect(decideAdvance(held, 'r-api', origin)).toEqual([]);
    const clear = {
      verdict: 'compatible' as const,
      findings: [],
      notes: [],
      policy: 'hold' as const,
    };
    const checked = decideApiGate(held, 'r-api', 0, clear, origin);
    expect(checked.map((e) => e.type)).toEqual(['ReleaseApiGateChecked']);
    // The same verdict again records nothing.
    const after = stateOf([...requested, ...checked]);
    expect(decideApiGate(after, 'r-api', 0, clear, origin)).toEqual([]);
    expect(decideAdvance(after, 'r-api', origin).map((e) => e.type)).toEqual([
      'ReleaseStepStarted',
    ]);
  });

  it('records who forced a breaking release and why, and never holds it', () => {
    const forced = decideRequestRelease(serviceReleases.initial(), {
      ...request,
      apiGate: { ...breaking, policy: 'refuse', forceReason: 'incident 9' },
    });
    expect(forced.map((e) => e.type)).toEqual([
      'ReleaseRequested',
      'ReleaseApiGateChecked',
      'ReleaseApiGateOverridden',
    ]);
    const state = stateOf(forced);
    expect(state.active!.apiGate!.overridden).toEqual({ by: 'user:ci', reason: 'incident 9' });
    expect(decideAdvance(state, 'r-api', origin)).toHaveLength(1);
  });

  it('checks the rollback on abort: refused under refuse unless forced, a recorded warning otherwise', () => {
    const started = decideRequestRelease(serviceReleases.initial(), request);
    const state = fold(serviceReleases, [
      ...envelope(started),
      ...envelope(decideAdvance(stateOf(started), 'r-api', origin), 2),
    ] as never);
    expect(state.active!.step).toBe(0);
    expect(() =>
      decideAbort(state, 'r-api', 'bad build', origin, { ...breaking, policy: 'refuse' }),
    ).toThrow(/rollback of r-api refused by the API compatibility gate/);
    const warned = decideAbort(state, 'r-api', 'bad build', origin, {
      ...breaking,
      policy: 'hold',
    });
    expect(warned.map((e) => [e.type, (e.data as { rollback?: boolean }).rollback])).toEqual([
      ['ReleaseApiGateChecked', true],
      ['ReleaseAborted', undefined],
    ]);
    const forced = decideAbort(state, 'r-api', 'bad build', origin, {
      ...breaking,
      policy: 'refuse',
      forceReason: 'bad build',
    });
    expect(forced.map((e) => e.type)).toEqual([
      'ReleaseApiGateChecked',
      'ReleaseApiGateOverridden',
      'ReleaseAborted',
    ]);
  });
});
