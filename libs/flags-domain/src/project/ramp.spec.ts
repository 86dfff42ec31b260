import type {
  EventEnvelope,
  FlagRampDecisionV1,
  FlagUpdatedV1,
  NewEvent,
} from '@rollgate/contracts';
import { DomainError, type Decision } from '@rollgate/event-sourcing';
import {
  decideCreateFlag,
  decideSetRollout,
  decideUpdateEnvironment,
  FlagInputError,
} from './decisions';
import { evolveProjectFlags, initialProjectState, type ProjectFlagsState } from './project-flags';
import {
  decideCancelRamp,
  decideRampTick,
  decideStartRamp,
  judgeRampStep,
  rampMetrics,
  rampOf,
  type OutcomeBatch,
  type RampLook,
} from './ramp';

const person = { actor: 'user:alice', causationId: null };
const t0 = new Date('2026-01-01T00:00:00.000Z');
const seconds = (n: number) => new Date(t0.getTime() + n * 1000);

function apply(state: ProjectFlagsState, decision: Decision, at = t0): ProjectFlagsState {
  return decision.reduce(
    (s, e: NewEvent, i) =>
      evolveProjectFlags(s, {
        ...e,
        id: `e${state.version + i + 1}`,
        occurredAt: at.toISOString(),
        sequence: state.version + i + 1,
      } as EventEnvelope),
    state,
  );
}

/** A release flag switched on at 0 % in production. */
function flagOnAtZero(): ProjectFlagsState {
  let state = initialProjectState('default');
  state = apply(
    state,
    decideCreateFlag(
      state,
      { key: 'new-cart', type: 'release', owner: 'team-cart', reason: 'new' },
      person,
      t0,
    ),
  );
  return apply(
    state,
    decideUpdateEnvironment(
      state,
      {
        key: 'new-cart',
        environment: 'production',
        config: { enabled: true, rollout: { percentage: 0 } },
        reason: 'dark',
        fleet: { ok: true, instances: [] },
      },
      person,
    ),
  );
}

function started(steps = [5, 25, 50, 100], judge = 'sequential') {
  const state = flagOnAtZero();
  const decision = decideStartRamp(
    state,
    {
      key: 'new-cart',
      environment: 'production',
      rampId: 'r1',
      steps,
      stepSeconds: 60,
      judge,
      reason: 'ship it',
    },
    person,
  );
  return { decision, state: apply(state, decision) };
}

const percentageOf = (state: ProjectFlagsState) =>
  state.flags['new-cart']!.definition.environments['production']!.rollout?.percentage;

const look = (verdict: RampLook['verdict'], step = 0, reasons = ['judged']): RampLook => ({
  rampId: 'r1',
  step,
  verdict,
  reasons,
  onRequests: 100,
  offRequests: 900,
});

const tick = (state: ProjectFlagsState, l: RampLook, at: Date) =>
  decideRampTick(state, { key: 'new-cart', environment: 'production', look: l }, at);

function batches(on: [number, number], off: [number, number]): OutcomeBatch[] {
  return [
    { cohort: 'off', requests: off[0], errors: off[1], latenciesMs: [] },
    { cohort: 'on', requests: on[0], errors: on[1], latenciesMs: [] },
  ];
}

describe('guarded rollout decisions', () => {
  it('starts by recording the ramp and setting the first step, numbered as ruleset versions', () => {
    const { decision, state } = started();
    expect(decision.map((e) => e.type)).toEqual(['FlagRampStarted', 'FlagUpdated']);
    const versions = decision.map((e) => (e.data as { rulesetVersion: number }).rulesetVersion);
    expect(versions).toEqual([3, 4]);
    expect(percentageOf(state)).toBe(5);
    expect(rampOf(state, 'new-cart', 'production')).toMatchObject({
      status: 'running',
      step: 0,
      startedBy: 'user:alice',
    });
    expect(state.version).toBe(4);
  });

  it('refuses bad steps, a second ramp and a flag that is off', () => {
    const state = flagOnAtZero();
    const start = (over: object) =>
      decideStartRamp(
        state,
        { key: 'new-cart', environment: 'production', rampId: 'r', reason: 'x', ...over },
        person,
      );
    const problems = (over: object) => {
      try {
        start(over);
      } catch (error) {
        return (error as FlagInputError).problems.map((p) => p.field);
      }
      return [];
    };
    expect(problems({ steps: [50, 25] })).toEqual(['steps']);
    expect(problems({ steps: [0, 100] })).toEqual(['steps']);
    expect(problems({ stepSeconds: 0, judge: 'coin' })).toEqual(['stepSeconds', 'judge']);
    const running = started().state;
    expect(() =>
      decideStartRamp(
        running,
        { key: 'new-cart', environment: 'production', rampId: 'r2', reason: 'again' },
        person,
      ),
    ).toThrow(/already running/);
    let off = initialProjectState('default');
    off = apply(
      off,
      decideCreateFlag(
        off,
        { key: 'new-cart', type: 'release', owner: 'o', reason: 'n' },
        person,
        t0,
      ),
    );
    expect(() =>
      decideStartRamp(
        off,
        { key: 'new-cart', environment: 'production', rampId: 'r', reason: 'x' },
        person,
      ),
    ).toThrow(DomainError);
  });

  it('turns the rollout back to 0% on FAIL, as service:flags with the judge reasons', () => {
    const { state } = started();
    const decision = tick(
      state,
      look('FAIL', 0, ['error-rate: canary 10% vs baseline 1%']),
      seconds(5),
    );
    expect(decision.map((e) => e.type)).toEqual(['FlagRampReverted', 'FlagUpdated']);
    expect(decision.every((e) => e.actor === 'service:flags')).toBe(true);
    const update = decision[1]!.data as FlagUpdatedV1;
    expect(update.change).toBe('rollout');
    expect(update.reason).toContain('error-rate: canary 10% vs baseline 1%');
    const after = apply(state, decision, seconds(5));
    expect(percentageOf(after)).toBe(0);
    expect(rampOf(after, 'new-cart', 'production')!.status).toBe('reverted');
    // Once ended, later looks decide nothing.
    expect(tick(after, look('FAIL'), seconds(6))).toEqual([]);
  });

  it('advances a sequential PASS at once and completes on reaching the last step', () => {
    let { state } = started([5, 50, 100]);
    const first = tick(state, look('PASS', 0), seconds(3));
    expect(first.map((e) => e.type)).toEqual(['FlagRampStepPassed', 'FlagUpdated']);
    state = apply(state, first, seconds(3));
    expect(percentageOf(state)).toBe(50);
    // A look at the step just left (another replica's) decides nothing.
    expect(tick(state, look('PASS', 0), seconds(4))).toEqual([]);
    const second = tick(state, look('PASS', 1), seconds(4));
    expect(second.map((e) => e.type)).toEqual([
      'FlagRampStepPassed',
      'FlagUpdated',
      'FlagRampCompleted',
    ]);
    state = apply(state, second, seconds(4));
    expect(percentageOf(state)).toBe(100);
    expect(rampOf(state, 'new-cart', 'production')).toMatchObject({ status: 'completed', step: 2 });
  });

  it('advances other judges only once the step time is up', () => {
    const { state } = started([5, 100], 'kayenta');
    expect(tick(state, look('PASS'), seconds(30))).toEqual([]);
    const decision = tick(state, look('PASS'), seconds(60));
    expect(decision.map((e) => e.type)).toContain('FlagRampCompleted');
  });

  it('holds on NODATA when the step time is up, says so once, never advances, and reverts after 3 step lengths', () => {
    let { state } = started();
    expect(tick(state, look('NODATA'), seconds(30))).toEqual([]);
    const held = tick(state, look('NODATA'), seconds(61));
    expect(held.map((e) => e.type)).toEqual(['FlagRampHeld']);
    expect((held[0]!.data as FlagRampDecisionV1).reasons[0]).toMatch(/never advances without data/);
    state = apply(state, held, seconds(61));
    expect(percentageOf(state)).toBe(5);
    expect(tick(state, look('NODATA'), seconds(120))).toEqual([]);
    expect(tick(state, look('MARGINAL'), seconds(200))).toEqual([]);
    // Data arrives later and passes: then it moves on.
    expect(tick(state, look('PASS'), seconds(130))[0]!.type).toBe('FlagRampStepPassed');
    // Still nothing after three step lengths: fail safe, back to 0 %.
    const starved = tick(state, look('NODATA'), seconds(180));
    expect(starved.map((e) => e.type)).toEqual(['FlagRampReverted', 'FlagUpdated']);
    expect((starved[0]!.data as FlagRampDecisionV1).reasons[0]).toMatch(
      /no data for 3 step lengths/,
    );
    expect(percentageOf(apply(state, starved, seconds(180)))).toBe(0);
  });

  it('ends the ramp when someone changes the rollout by hand, and on cancel', () => {
    const { state } = started();
    const byHand = apply(
      state,
      decideSetRollout(
        state,
        { key: 'new-cart', environment: 'production', percentage: 40, reason: 'me' },
        person,
      ),
    );
    const decision = tick(byHand, look('PASS'), seconds(5));
    expect(decision.map((e) => e.type)).toEqual(['FlagRampCancelled']);
    expect((decision[0]!.data as FlagRampDecisionV1).reasons[0]).toMatch(/changed by hand to 40%/);
    const cancelled = decideCancelRamp(
      state,
      { key: 'new-cart', environment: 'production', reason: 'not today' },
      person,
    );
    expect(cancelled[0]).toMatchObject({ type: 'FlagRampCancelled', actor: 'user:alice' });
    const after = apply(state, cancelled);
    expect(percentageOf(after)).toBe(5);
    expect(() =>
      decideCancelRamp(after, { key: 'new-cart', environment: 'production', reason: 'x' }, person),
    ).toThrow(/no guarded rollout/);
  });
});

describe('judging a ramp step', () => {
  const ramp = { rampId: 'r1', step: 0, judge: 'sequential' as const };

  it('is NODATA without outcomes from both cohorts', () => {
    const { look: l } = judgeRampStep({ ramp, batches: batches([0, 0], [500, 5]), timeUp: true });
    expect(l.verdict).toBe('NODATA');
    expect(l.reasons[0]).toMatch(/flag-on cohort/);
  });

  it('fails a flag-on cohort erring 10% against 1%, and the sequential state carries over', () => {
    let session;
    let verdict = 'NODATA';
    // Looks every "interval" with growing data, as the runner does.
    const all: OutcomeBatch[] = [];
    for (let i = 0; i < 20 && verdict !== 'FAIL'; i++) {
      all.push({ cohort: 'off', requests: 90, errors: i % 10 === 0 ? 1 : 0, latenciesMs: [] });
      all.push({ cohort: 'on', requests: 10, errors: 1, latenciesMs: [] });
      const judged = judgeRampStep({ ramp, batches: [...all], timeUp: false, session });
      session = judged.session;
      verdict = judged.look.verdict;
    }
    expect(verdict).toBe('FAIL');
  });

  it('closes an open sequential run with a two-proportion test on the counts', () => {
    // 3% against 1%: too little for the sequential judge in one look, clear for one test at the end.
    const judged = (timeUp: boolean) =>
      judgeRampStep({ ramp, batches: batches([400, 12], [3600, 36]), timeUp }).look;
    expect(judged(false).verdict).toBe('MARGINAL');
    const closed = judged(true);
    expect(closed.verdict).toBe('FAIL');
    expect(closed.reasons.join('\n')).toMatch(/two-proportion/);
  });

  it('passes equal cohorts at the end of the step (fixed-horizon tests close an open sequential run)', () => {
    const { look: l } = judgeRampStep({
      ramp,
      batches: batches([200, 2], [1800, 18]),
      timeUp: true,
    });
    expect(l.verdict).toBe('PASS');
    expect(l.onRequests).toBe(200);
    expect(l.offRequests).toBe(1800);
  });

  it('judges latency only when both cohorts report it', () => {
    expect(rampMetrics(batches([10, 0], [10, 0])).map((m) => m.name)).toEqual(['error-rate']);
    const withLatency: OutcomeBatch[] = [
      { cohort: 'on', requests: 2, errors: 1, latenciesMs: [10, 12] },
      { cohort: 'off', requests: 3, errors: 0, latenciesMs: [9, 11, 10] },
    ];
    const metrics = rampMetrics(withLatency);
    expect(metrics.map((m) => m.name)).toEqual(['error-rate', 'latency']);
    expect(metrics[0]).toMatchObject({ canary: [1, 0], baseline: [0, 0, 0], critical: true });
  });
});
