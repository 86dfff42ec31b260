import type {
  EventEnvelope,
  FlagRampDecisionV1,
  FlagRampJudge,
  FlagRampStartedV1,
  NewEvent,
  Verdict,
} from '@rollgate/contracts';
import { DomainError, type Decision } from '@rollgate/event-sourcing';
import {
  createJudge,
  SequentialJudge,
  type JudgeSettings,
  type JudgeVerdict,
  type MetricInput,
  type SequentialRunState,
} from '@rollgate/judges';
import { decideSetRollout, FlagInputError, type FieldProblem, type Origin } from './decisions';
import type { ProjectFlagsState } from './project-flags';

/**
 * Guarded rollout: a flag's percentage ramps through steps (5, 25, 50, 100 by default). During
 * each step a judge compares what the applications reported for the flag-on cohort (the canary)
 * with the flag-off cohort (the baseline): a regression turns the rollout back to 0 %, a pass
 * moves it to the next step, no data holds it where it is. The ramp lives in the project stream,
 * so its decisions and the rollout changes they cause are committed together.
 */

export const RAMP_JUDGES: readonly FlagRampJudge[] = ['sequential', 'kayenta', 'threshold'];
export const DEFAULT_RAMP_STEPS: readonly number[] = [5, 25, 50, 100];
export const DEFAULT_RAMP_STEP_SECONDS = 60;
export const RAMP_ACTOR = 'service:flags';
/**
 * Fail safe: a step with no data for this many step lengths is rolled back, as an analysis run
 * ends as FAIL after repeated NODATA. Before that it holds.
 */
export const NODATA_STEP_LENGTHS_BEFORE_REVERT = 3;

export type RampStatus = 'running' | 'completed' | 'reverted' | 'cancelled';

export interface RampDecisionRecord {
  readonly type: string;
  readonly at: string;
  readonly step: number;
  readonly verdict?: Verdict;
  readonly reasons: readonly string[];
}

export interface RampState {
  readonly rampId: string;
  readonly flagKey: string;
  readonly environment: string;
  readonly steps: readonly number[];
  readonly stepSeconds: number;
  readonly judge: FlagRampJudge;
  readonly reason: string;
  readonly startedAt: string;
  readonly startedBy: string;
  readonly status: RampStatus;
  /** Index into `steps` of the percentage in force. */
  readonly step: number;
  readonly stepStartedAt: string;
  /** The current step's hold was announced (once per step). */
  readonly held: boolean;
  readonly endedAt?: string;
  /** Every decision so far, oldest first. */
  readonly decisions: readonly RampDecisionRecord[];
}

export function rampKey(flagKey: string, environment: string): string {
  return `${flagKey}/${environment}`;
}

/** The latest ramp of a flag in an environment, running or ended. */
export function rampOf(
  state: ProjectFlagsState,
  flagKey: string,
  environment: string,
): RampState | undefined {
  return state.ramps?.[rampKey(flagKey, environment)];
}

export function runningRamps(state: ProjectFlagsState): RampState[] {
  return Object.values(state.ramps ?? {}).filter((ramp) => ramp.status === 'running');
}

// ---- fold --------------------------------------------------------------------------------------

const ENDING: Record<string, RampStatus> = {
  FlagRampReverted: 'reverted',
  FlagRampCompleted: 'completed',
  FlagRampCancelled: 'cancelled',
};

/** Folds ramp events; returns `state` itself for any other event. */
export function evolveRamps(state: ProjectFlagsState, event: EventEnvelope): ProjectFlagsState {
  if (event.type === 'FlagRampStarted') {
    const data = event.data as FlagRampStartedV1;
    const ramp: RampState = {
      rampId: data.rampId,
      flagKey: data.flagKey,
      environment: data.environment,
      steps: [...data.steps],
      stepSeconds: data.stepSeconds,
      judge: data.judge,
      reason: data.reason,
      startedAt: event.occurredAt,
      startedBy: event.actor,
      status: 'running',
      step: 0,
      stepStartedAt: event.occurredAt,
      held: false,
      decisions: [],
    };
    return withRamp(state, ramp);
  }
  if (!event.type.startsWith('FlagRamp')) return state;
  const data = event.data as FlagRampDecisionV1;
  const ramp = rampOf(state, data.flagKey, data.environment);
  if (!ramp || ramp.rampId !== data.rampId) return state;
  const record: RampDecisionRecord = {
    type: event.type,
    at: event.occurredAt,
    step: data.step,
    ...(data.verdict ? { verdict: data.verdict } : {}),
    reasons: [...data.reasons],
  };
  const decisions = [...ramp.decisions, record];
  if (event.type === 'FlagRampStepPassed') {
    return withRamp(state, {
      ...ramp,
      step: Math.min(data.step + 1, ramp.steps.length - 1),
      stepStartedAt: event.occurredAt,
      held: false,
      decisions,
    });
  }
  if (event.type === 'FlagRampHeld') return withRamp(state, { ...ramp, held: true, decisions });
  const status = ENDING[event.type];
  if (!status) return state;
  return withRamp(state, { ...ramp, status, endedAt: event.occurredAt, decisions });
}

function withRamp(state: ProjectFlagsState, ramp: RampState): ProjectFlagsState {
  const key = rampKey(ramp.flagKey, ramp.environment);
  return { ...state, ramps: { ...(state.ramps ?? {}), [key]: ramp } };
}

// ---- commands ----------------------------------------------------------------------------------

export interface StartRamp {
  readonly key: string;
  readonly environment: string;
  /** Chosen by the edge (a UUID), so the decision stays pure. */
  readonly rampId: string;
  readonly steps?: readonly number[];
  readonly stepSeconds?: number;
  readonly judge?: string;
  readonly reason: string;
}

/** Starts a ramp: records it and sets the first percentage, in one append. */
export function decideStartRamp(
  state: ProjectFlagsState,
  command: StartRamp,
  origin: Origin,
): Decision {
  const steps = command.steps ?? DEFAULT_RAMP_STEPS;
  const stepSeconds = command.stepSeconds ?? DEFAULT_RAMP_STEP_SECONDS;
  const judge = command.judge ?? 'sequential';
  const problems = rampProblems(steps, stepSeconds, judge);
  if (problems.length > 0) throw new FlagInputError(problems);
  // Validates the flag and environment the same way a hand-set rollout does.
  const rollout = decideSetRollout(
    state,
    {
      key: command.key,
      environment: command.environment,
      percentage: steps[0]!,
      reason: `guarded rollout ${command.rampId} step 1 of ${steps.length}: ${command.reason}`,
    },
    origin,
  );
  const config = state.flags[command.key]!.definition.environments[command.environment];
  if (!config?.enabled) {
    throw new DomainError(
      'conflict',
      `flag "${command.key}" is off in ${command.environment}: turn it on (with a 0% rollout) before ramping it`,
      { flag: command.key, environment: command.environment },
    );
  }
  const running = rampOf(state, command.key, command.environment);
  if (running?.status === 'running') {
    throw new DomainError(
      'conflict',
      `a guarded rollout of "${command.key}" in ${command.environment} is already running (${running.rampId}); cancel it first`,
      { flag: command.key, environment: command.environment, rampId: running.rampId },
    );
  }
  const started: FlagRampStartedV1 = {
    project: state.project,
    flagKey: command.key,
    environment: command.environment,
    rampId: command.rampId,
    steps: [...steps],
    stepSeconds,
    judge: judge as FlagRampJudge,
    reason: command.reason,
    rulesetVersion: 0,
  };
  return numbered(state, [rampEvent(state, 'FlagRampStarted', started, origin), ...rollout]);
}

/** Stops a running ramp by hand; the rollout stays at its current percentage. */
export function decideCancelRamp(
  state: ProjectFlagsState,
  command: { key: string; environment: string; reason: string },
  origin: Origin,
): Decision {
  const ramp = rampOf(state, command.key, command.environment);
  if (!ramp || ramp.status !== 'running') {
    throw new DomainError(
      'not-found',
      `no guarded rollout of "${command.key}" is running in ${command.environment}`,
      { flag: command.key, environment: command.environment },
    );
  }
  const at = ramp.steps[ramp.step]!;
  return numbered(state, [
    decisionEvent(state, 'FlagRampCancelled', ramp, at, undefined, [command.reason], origin),
  ]);
}

/** What the judge concluded about the current step (see `judgeRampStep`). */
export interface RampLook {
  readonly rampId: string;
  readonly step: number;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly onRequests: number;
  readonly offRequests: number;
}

/**
 * One look at a running ramp. FAIL: back to 0 % and the ramp ends as reverted. PASS: the next
 * step (sequential at once; the other judges only once the step's time is up), and the ramp
 * completes when the next step is the last. Time up without PASS or FAIL: hold, and say so once
 * per step; still no data at all after NODATA_STEP_LENGTHS_BEFORE_REVERT step lengths: revert. A look at a ramp or step that is no longer current (another replica decided first)
 * decides nothing. A flag turned off, killed, retired or re-rolled by hand ends the ramp.
 */
export function decideRampTick(
  state: ProjectFlagsState,
  command: { key: string; environment: string; look: RampLook },
  now: Date,
): Decision {
  const origin: Origin = { actor: RAMP_ACTOR, causationId: null };
  const ramp = rampOf(state, command.key, command.environment);
  const { look } = command;
  if (!ramp || ramp.status !== 'running') return [];
  if (ramp.rampId !== look.rampId || ramp.step !== look.step) return [];
  const percentage = ramp.steps[ramp.step]!;
  const interference = interferenceOf(state, ramp, percentage);
  if (interference) {
    return numbered(state, [
      decisionEvent(state, 'FlagRampCancelled', ramp, null, look, [interference], origin),
    ]);
  }
  const elapsedMs = now.getTime() - Date.parse(ramp.stepStartedAt);
  const starved =
    look.verdict === 'NODATA' &&
    elapsedMs >= NODATA_STEP_LENGTHS_BEFORE_REVERT * ramp.stepSeconds * 1000;
  if (look.verdict === 'FAIL' || starved) {
    const reasons = starved
      ? [
          `no data for ${NODATA_STEP_LENGTHS_BEFORE_REVERT} step lengths at ${percentage}%: rolling back (fail safe)`,
          ...look.reasons,
        ]
      : look.reasons;
    const rollback = decideSetRollout(
      state,
      {
        key: ramp.flagKey,
        environment: ramp.environment,
        percentage: 0,
        reason: `guarded rollout ${ramp.rampId} reverted at ${percentage}%: ${reasons.join('; ') || 'the judge failed the flag-on cohort'}`,
      },
      origin,
    );
    return numbered(state, [
      decisionEvent(state, 'FlagRampReverted', ramp, 0, look, reasons, origin),
      ...rollback,
    ]);
  }
  const timeUp = elapsedMs >= ramp.stepSeconds * 1000;
  if (look.verdict === 'PASS' && (ramp.judge === 'sequential' || timeUp)) {
    const next = ramp.step + 1;
    const nextPercentage = ramp.steps[next]!;
    const last = next === ramp.steps.length - 1;
    const advance = decideSetRollout(
      state,
      {
        key: ramp.flagKey,
        environment: ramp.environment,
        percentage: nextPercentage,
        reason: `guarded rollout ${ramp.rampId} step ${next + 1} of ${ramp.steps.length}: ${percentage}% passed`,
      },
      origin,
    );
    const events: NewEvent[] = [
      decisionEvent(state, 'FlagRampStepPassed', ramp, nextPercentage, look, look.reasons, origin),
      ...advance,
    ];
    if (last) {
      const done = { ...ramp, step: next };
      const why = [`reached ${nextPercentage}%, the last step`];
      events.push(
        decisionEvent(state, 'FlagRampCompleted', done, nextPercentage, look, why, origin),
      );
    }
    return numbered(state, events);
  }
  if (timeUp && !ramp.held) {
    const why =
      look.verdict === 'NODATA'
        ? `no data to judge ${percentage}% on: holding (a ramp never advances without data)`
        : `the judge has no conclusion at ${percentage}% yet: holding`;
    return numbered(state, [
      decisionEvent(state, 'FlagRampHeld', ramp, percentage, look, [why, ...look.reasons], origin),
    ]);
  }
  return [];
}

/** Why the ramp no longer controls the rollout, if someone else changed it. */
function interferenceOf(
  state: ProjectFlagsState,
  ramp: RampState,
  percentage: number,
): string | undefined {
  const flag = state.flags[ramp.flagKey];
  if (!flag) return `flag "${ramp.flagKey}" was retired`;
  const config = flag.definition.environments[ramp.environment];
  if (!config?.enabled) return `flag "${ramp.flagKey}" was turned off in ${ramp.environment}`;
  const current = config.rollout?.percentage ?? 100;
  if (current !== percentage) {
    return `the rollout was changed by hand to ${current}% (the ramp had set ${percentage}%)`;
  }
  return undefined;
}

export function rampProblems(
  steps: readonly number[],
  stepSeconds: number,
  judge: string,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!Array.isArray(steps) || steps.length < 2 || steps.length > 20) {
    problems.push({ field: 'steps', problem: 'must list 2 to 20 percentages' });
  } else if (!steps.every((s) => Number.isInteger(s) && s >= 1 && s <= 100)) {
    problems.push({ field: 'steps', problem: 'each must be a whole percentage from 1 to 100' });
  } else if (!steps.every((s, i) => i === 0 || s > steps[i - 1]!)) {
    problems.push({ field: 'steps', problem: 'must increase strictly' });
  }
  if (!Number.isInteger(stepSeconds) || stepSeconds < 1 || stepSeconds > 86_400) {
    problems.push({ field: 'stepSeconds', problem: 'must be whole seconds from 1 to 86400' });
  }
  if (!RAMP_JUDGES.includes(judge as FlagRampJudge)) {
    problems.push({ field: 'judge', problem: `must be one of ${RAMP_JUDGES.join(', ')}` });
  }
  return problems;
}

// ---- judging -----------------------------------------------------------------------------------

/** What applications reported for one cohort in one flush (see the SDK's `track`). */
export interface OutcomeBatch {
  readonly cohort: 'on' | 'off';
  readonly requests: number;
  readonly errors: number;
  /** A bounded sample of latencies in milliseconds (may be empty). */
  readonly latenciesMs: readonly number[];
}

/** The sequential judge's run for one step; plain JSON, kept by the runner between looks. */
export interface SequentialSession {
  readonly metricNames: readonly string[];
  readonly state: SequentialRunState;
}

/**
 * Error rate is judged per request (1 = failed, critical), latency per sampled request on a log
 * scale with +25 % as the smallest regression worth catching, as analysis runs do.
 */
export const RAMP_JUDGE_SETTINGS: JudgeSettings = {
  sequential: {
    metrics: {
      'error-rate': { kind: 'proportion' },
      latency: { kind: 'continuous', scale: 'log', minimumRegression: 0.25 },
    },
  },
  kayenta: { metrics: { latency: { effectSize: { allowedIncrease: 1.2 } } } },
  threshold: {
    conditions: {
      'error-rate': { aggregate: 'mean', max: 0.05 },
      latency: { aggregate: 'p99', max: 1000 },
    },
  },
};

/**
 * The judge's request from every batch of the step so far, in arrival order (so each look's
 * samples extend the last one's, as the sequential judge requires).
 */
export function rampMetrics(batches: readonly OutcomeBatch[]): MetricInput[] {
  const of = (cohort: 'on' | 'off') => batches.filter((b) => b.cohort === cohort);
  const errors = (list: OutcomeBatch[]) =>
    list.flatMap((b) => [
      ...Array<number>(Math.max(0, b.errors)).fill(1),
      ...Array<number>(Math.max(0, b.requests - b.errors)).fill(0),
    ]);
  const latencies = (list: OutcomeBatch[]) =>
    list.flatMap((b) => b.latenciesMs.filter((v) => Number.isFinite(v) && v > 0));
  const metrics: MetricInput[] = [
    {
      name: 'error-rate',
      baseline: errors(of('off')),
      canary: errors(of('on')),
      direction: 'increase',
      critical: true,
    },
  ];
  const latency = { baseline: latencies(of('off')), canary: latencies(of('on')) };
  if (latency.baseline.length > 0 && latency.canary.length > 0) {
    metrics.push({ name: 'latency', ...latency, direction: 'increase' });
  }
  return metrics;
}

/**
 * Judges the current step. Without requests in the flag-on cohort (or, for comparing judges, the
 * flag-off cohort) the answer is NODATA without asking a judge. A sequential run still
 * inconclusive when the step's time is up is closed with one look at the whole step: the
 * sequential judge's fixed-horizon tests, as an analysis window closes.
 */
export function judgeRampStep(args: {
  ramp: Pick<RampState, 'rampId' | 'step' | 'judge'>;
  batches: readonly OutcomeBatch[];
  timeUp: boolean;
  session?: SequentialSession;
}): { look: RampLook; session?: SequentialSession } {
  const { ramp, batches, timeUp } = args;
  const count = (cohort: 'on' | 'off') =>
    batches.filter((b) => b.cohort === cohort).reduce((sum, b) => sum + b.requests, 0);
  const onRequests = count('on');
  const offRequests = count('off');
  const look = (verdict: JudgeVerdict, lead: string[] = []): RampLook => ({
    rampId: ramp.rampId,
    step: ramp.step,
    verdict: verdict.verdict,
    reasons: [...lead, ...verdict.reasons],
    onRequests,
    offRequests,
  });
  if (onRequests === 0 || (ramp.judge !== 'threshold' && offRequests === 0)) {
    const missing = onRequests === 0 ? 'flag-on' : 'flag-off';
    return {
      look: look({
        verdict: 'NODATA',
        score: 0,
        metrics: [],
        reasons: [`no outcomes reported for the ${missing} cohort in this step yet`],
      }),
      ...(args.session ? { session: args.session } : {}),
    };
  }
  const metrics = rampMetrics(batches);
  if (ramp.judge !== 'sequential') {
    return { look: look(createJudge(ramp.judge, RAMP_JUDGE_SETTINGS).judge({ metrics })) };
  }
  const names = metrics.map((m) => m.name);
  const judge = new SequentialJudge(RAMP_JUDGE_SETTINGS.sequential);
  // The metric set is fixed for a run; should latency appear later, the run starts over.
  const previous =
    args.session && sameNames(args.session.metricNames, names) ? args.session.state : undefined;
  const observed = judge.observe(previous ?? judge.start(), { metrics });
  const session: SequentialSession = { metricNames: names, state: observed.state };
  if (!timeUp || observed.verdict.verdict !== 'MARGINAL') {
    return { look: look(observed.verdict), session };
  }
  const horizon = judge.judgeWindow({ metrics });
  return {
    look: look(horizon, [
      `sequential judge inconclusive when the step's time was up; fixed-horizon tests of the whole step (error rate: two-proportion test on the counts; latency: Mann-Whitney): ${horizon.verdict}`,
    ]),
    session,
  };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

// ---- helpers -----------------------------------------------------------------------------------

function decisionEvent(
  state: ProjectFlagsState,
  type: string,
  ramp: RampState,
  percentageAfter: number | null,
  look: RampLook | undefined,
  reasons: readonly string[],
  origin: Origin,
): NewEvent {
  const percentage = ramp.steps[ramp.step]!;
  const data: FlagRampDecisionV1 = {
    project: state.project,
    flagKey: ramp.flagKey,
    environment: ramp.environment,
    rampId: ramp.rampId,
    step: ramp.step,
    percentage,
    percentageAfter: percentageAfter ?? currentPercentage(state, ramp) ?? percentage,
    ...(look ? { verdict: look.verdict } : {}),
    reasons: [...reasons],
    onRequests: look?.onRequests ?? 0,
    offRequests: look?.offRequests ?? 0,
    rulesetVersion: 0,
  };
  return rampEvent(state, type, data, origin);
}

function currentPercentage(state: ProjectFlagsState, ramp: RampState): number | undefined {
  const config = state.flags[ramp.flagKey]?.definition.environments[ramp.environment];
  if (!config) return undefined;
  return config.enabled ? (config.rollout?.percentage ?? 100) : 0;
}

function rampEvent(state: ProjectFlagsState, type: string, data: object, origin: Origin): NewEvent {
  const flagKey = (data as { flagKey: string }).flagKey;
  return {
    type,
    version: 1,
    actor: origin.actor,
    correlationId: `${state.project}/${flagKey}`,
    causationId: origin.causationId,
    key: state.project,
    data,
  };
}

/** Every event of one append bumps the ruleset version: number them in order. */
function numbered(state: ProjectFlagsState, events: readonly NewEvent[]): NewEvent[] {
  return events.map((event, index) => ({
    ...event,
    data: { ...(event.data as object), rulesetVersion: state.version + index + 1 },
  }));
}
