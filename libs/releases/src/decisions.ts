import type {
  ApiGatePolicy,
  ApiGateVerdict,
  ArtifactRef,
  NewEvent,
  ReleasePlan,
  ReleaseStrategy,
  Verdict,
} from '@rollgate/contracts';
import { DomainError, type Decision } from '@rollgate/event-sourcing';
import type { LowTrafficChoices } from './low-traffic-policy';
import { withPlanDefaults } from './plan';
import { apiGateHolds, type Release, type ServiceReleasesState } from './release';

/** Who asks and why: every event records its actor and what caused it. */
export interface Origin {
  actor: string;
  causationId: string | null;
}

function event(
  type: string,
  release: Pick<Release, 'releaseId' | 'service'>,
  origin: Origin,
  data: object,
  version = 1,
): NewEvent {
  return {
    type,
    version,
    actor: origin.actor,
    correlationId: release.releaseId,
    causationId: origin.causationId,
    key: release.service,
    data: { releaseId: release.releaseId, service: release.service, ...data },
  };
}

/** The active release with this id, if that is the one running now (reconciler decisions). */
function running(state: ServiceReleasesState, releaseId: string): Release | undefined {
  return state.active?.releaseId === releaseId ? state.active : undefined;
}

/** The active release with this id, or a refusal that says what is wrong. */
function activeRelease(state: ServiceReleasesState, releaseId: string): Release {
  if (state.active?.releaseId === releaseId) return state.active;
  if (state.releaseIds.includes(releaseId)) {
    throw new DomainError('conflict', `release ${releaseId} has already ended`);
  }
  throw new DomainError(
    'not-found',
    `release ${releaseId} does not exist on ${state.service ?? 'this service'}`,
  );
}

export interface RequestRelease extends Origin {
  releaseId: string;
  service: string;
  artifact: ArtifactRef;
  version?: string;
  strategy: ReleaseStrategy;
  plan?: Partial<ReleasePlan>;
  /** The caller says this release creates the service (docs/adr/0010-first-release-rule.md). */
  first?: boolean;
  /** What the API compatibility gate found (docs/adr/0012-api-compatibility-gate.md). */
  apiGate?: ApiGateCheck;
  /** Taken from the service policy (or overridden by the request): recorded on the release. */
  policy?: { version: number };
  canaryConfig?: string;
  lowTraffic?: LowTrafficChoices;
  owners?: string[];
}

/** One verdict of the API compatibility gate, and the override a person asked for, if any. */
export interface ApiGateCheck {
  verdict: ApiGateVerdict;
  policy: ApiGatePolicy;
  findings: string[];
  notes: string[];
  /** `force` with this reason: go on despite breaking findings (recorded with the actor). */
  forceReason?: string;
}

/**
 * The gate's events for a check: the verdict, then the override when breaking findings are
 * forced through. Breaking under the `refuse` policy without force is a 409 and nothing is written.
 */
function apiGateEvents(
  release: Pick<Release, 'releaseId' | 'service'>,
  check: ApiGateCheck,
  step: number,
  origin: Origin,
  what: string,
  rollback = false,
): NewEvent[] {
  const breaking = check.verdict === 'breaking';
  if (breaking && check.policy === 'refuse' && check.forceReason === undefined) {
    throw new DomainError(
      'conflict',
      `${what} refused by the API compatibility gate: ${check.findings.join('; ')}`,
      {
        field: 'artifact.api',
        problem: 'breaks an API a live build uses; send force: true with a reason to go on anyway',
        findings: check.findings,
      },
    );
  }
  const { forceReason, ...verdict } = check;
  return [
    event('ReleaseApiGateChecked', release, origin, {
      step,
      ...verdict,
      ...(rollback ? { rollback: true } : {}),
    }),
    ...(breaking && forceReason !== undefined
      ? [
          event('ReleaseApiGateOverridden', release, origin, {
            reason: forceReason,
            findings: check.findings,
          }),
        ]
      : []),
  ];
}

export function decideRequestRelease(
  state: ServiceReleasesState,
  command: RequestRelease,
): Decision {
  if (state.active) {
    throw new DomainError(
      'conflict',
      `service ${command.service} already has an active release ${state.active.releaseId}`,
      { activeReleaseId: state.active.releaseId },
    );
  }
  // A first release goes to 100% at once: a typo in a service name must not do that silently.
  if (!state.stable && !command.first) {
    throw new DomainError(
      'invalid',
      `service ${command.service} has no stable build: its first release takes all traffic at once`,
      {
        field: 'service',
        problem: `unknown service "${command.service}"; send first: true to create it`,
      },
    );
  }
  if (state.stable && command.first) {
    throw new DomainError(
      'conflict',
      `service ${command.service} already runs ${state.stable.version}: this is not its first release`,
      { field: 'first', problem: 'the service already has a stable build; leave first out' },
    );
  }
  const plan = withPlanDefaults(command.plan);
  return [
    event(
      'ReleaseRequested',
      command,
      command,
      {
        artifact: command.artifact,
        strategy: command.strategy,
        plan,
        ...(command.version ? { version: command.version } : {}),
        ...(state.stable ? {} : { firstRelease: true }),
        ...(command.policy && { policy: command.policy }),
        ...(command.canaryConfig && { canaryConfig: command.canaryConfig }),
        ...(command.lowTraffic && { lowTraffic: command.lowTraffic }),
        ...(command.owners && command.owners.length > 0 && { owners: command.owners }),
      },
      2,
    ),
    ...(command.apiGate
      ? apiGateEvents(command, command.apiGate, -1, command, `release of ${command.service}`)
      : []),
  ];
}

/**
 * The gate asked again before a step: records the verdict when it changed. A breaking verdict
 * holds the release (whatever the policy: a running release is not refused, it waits) until the
 * live builds it breaks are gone; an overridden release is not asked again.
 */
export function decideApiGate(
  state: ServiceReleasesState,
  releaseId: string,
  step: number,
  check: Omit<ApiGateCheck, 'forceReason'>,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.phase !== 'progressing' || release.apiGate?.overridden) return [];
  const last = release.apiGate;
  if (
    last &&
    last.verdict === check.verdict &&
    last.findings.join('\n') === check.findings.join('\n')
  )
    return [];
  return [event('ReleaseApiGateChecked', release, origin, { step, ...check })];
}

/**
 * The reconciler's question "what next?": start the next step once the current one passed,
 * or declare success after the last. Nothing while paused, rolling back or drifting.
 */
export function decideAdvance(
  state: ServiceReleasesState,
  releaseId: string,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release) return [];
  if (release.phase !== 'progressing' || !release.stepCompleted || release.drift.length > 0)
    return [];
  const last = release.steps.length - 1;
  const next = release.promoteFull && release.strategy === 'canary' ? last : release.step + 1;
  if (release.step >= last || next <= release.step) {
    return [
      event('ReleaseSucceeded', release, origin, {
        reason: `${release.version} serves all traffic`,
      }),
    ];
  }
  if (apiGateHolds(release)) return [];
  const step = release.steps[next]!;
  return [
    event('ReleaseStepStarted', release, origin, {
      step: next,
      description: step.description,
      weights: step.weights,
    }),
  ];
}

/** A gate passed. Idempotent: a second report of the same step adds nothing. */
export function decideCompleteStep(
  state: ServiceReleasesState,
  releaseId: string,
  step: number,
  evidence: string,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.step !== step || release.stepCompleted) return [];
  if (release.phase !== 'progressing') return [];
  // The step's own gate says what kind of evidence this is (ReleaseStepCompleted v2).
  const gate = { kind: release.steps[step]?.gate ?? 'unknown', evidence };
  return [event('ReleaseStepCompleted', release, origin, { step, gate }, 2)];
}

/**
 * What an analysis verdict means for the step it judged: PASS completes it, MARGINAL waits for
 * a person, FAIL and NODATA roll back (fail safe: missing data never promotes).
 */
export function decideVerdict(
  state: ServiceReleasesState,
  releaseId: string,
  step: number,
  verdict: Verdict,
  reasons: string[],
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.step !== step || release.stepCompleted) return [];
  // While paused, bad news still counts: a FAIL or NODATA rolls back; anything else waits.
  const badNews = verdict === 'FAIL' || verdict === 'NODATA';
  if (release.phase !== 'progressing' && !(release.phase === 'paused' && badNews)) return [];
  const why = reasons.join('; ') || verdict;
  switch (verdict) {
    case 'PASS':
      return decideCompleteStep(state, releaseId, step, `analysis PASS: ${why}`, origin);
    case 'MARGINAL':
      return [
        event('ReleasePaused', release, origin, {
          reason: `analysis MARGINAL at step ${step}: ${why}`,
        }),
      ];
    case 'FAIL':
    case 'NODATA':
      return [
        event('ReleaseRollbackStarted', release, origin, {
          reason: `analysis ${verdict} at step ${step}: ${why}`,
        }),
      ];
  }
}

export function decidePause(
  state: ServiceReleasesState,
  releaseId: string,
  reason: string,
  origin: Origin,
): Decision {
  const release = activeRelease(state, releaseId);
  if (release.phase === 'paused') return [];
  if (release.phase !== 'progressing') {
    throw new DomainError(
      'conflict',
      `release ${releaseId} is ${release.phase}: it cannot be paused`,
    );
  }
  return [event('ReleasePaused', release, origin, { reason })];
}

export function decideResume(
  state: ServiceReleasesState,
  releaseId: string,
  origin: Origin,
): Decision {
  const release = activeRelease(state, releaseId);
  if (release.phase === 'rolling-back') {
    throw new DomainError('conflict', `release ${releaseId} is rolling back: it cannot be resumed`);
  }
  if (release.phase === 'progressing' && release.drift.length === 0) return [];
  if (release.phase !== 'paused' && release.drift.length === 0) {
    throw new DomainError(
      'conflict',
      `release ${releaseId} is ${release.phase}: it cannot be resumed`,
    );
  }
  return [event('ReleaseResumed', release, origin, { reason: `resumed by ${origin.actor}` })];
}

/**
 * Promote: pass the current step now (resuming a pause). `full` also skips the remaining canary
 * steps straight to 100%.
 */
export function decidePromote(
  state: ServiceReleasesState,
  releaseId: string,
  full: boolean,
  origin: Origin,
): Decision {
  const release = activeRelease(state, releaseId);
  if (release.phase === 'rolling-back') {
    throw new DomainError(
      'conflict',
      `release ${releaseId} is rolling back: it cannot be promoted`,
    );
  }
  if (release.drift.length > 0) {
    throw new DomainError(
      'conflict',
      `release ${releaseId} has drifting instances (${release.drift.join(', ')}): fix or abort`,
    );
  }
  const events: Decision = [];
  if (full)
    events.push(
      event('ReleasePromoted', release, origin, { reason: `full promotion by ${origin.actor}` }),
    );
  else if (release.phase === 'paused')
    events.push(
      event('ReleaseResumed', release, origin, { reason: `promoted by ${origin.actor}` }),
    );
  if (!release.stepCompleted && release.step >= 0) {
    events.push(
      event(
        'ReleaseStepCompleted',
        release,
        origin,
        {
          step: release.step,
          gate: { kind: 'promotion', evidence: `promoted by ${origin.actor}` },
        },
        2,
      ),
    );
  }
  return events;
}

/**
 * Abort. `rollbackCheck`: the gate's verdict on going back to the stable build's API (a consumer
 * may already read what only the new build returns); breaking is refused under `refuse` unless
 * forced, and recorded as a warning otherwise.
 */
export function decideAbort(
  state: ServiceReleasesState,
  releaseId: string,
  reason: string,
  origin: Origin,
  rollbackCheck?: ApiGateCheck,
): Decision {
  const release = activeRelease(state, releaseId);
  if (release.phase === 'rolling-back') return [];
  const why = `aborted by ${origin.actor}: ${reason}`;
  const checked = rollbackCheck
    ? apiGateEvents(
        release,
        rollbackCheck,
        release.step,
        origin,
        `rollback of ${release.releaseId}`,
        true,
      )
    : [];
  const aborted = event('ReleaseAborted', release, origin, { reason: why });
  // Before its first step nothing was deployed: the rollback is already complete.
  return release.step < 0
    ? [...checked, aborted, event('ReleaseRolledBack', release, origin, { reason: why })]
    : [...checked, aborted];
}

/**
 * A step cannot be carried out — the data plane could not confirm its weights, or the new build's
 * instances did not come up healthy: never advance blind, roll back, saying why.
 */
export function decideStepFailed(
  state: ServiceReleasesState,
  releaseId: string,
  reason: string,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.phase === 'rolling-back') return [];
  return [event('ReleaseRollbackStarted', release, origin, { reason })];
}

export interface DriftObservation {
  instanceId: string;
  intendedDigest: string;
  reportedDigest: string | null;
}

/** Records instances that run another build than intended; each one once. */
export function decideDrift(
  state: ServiceReleasesState,
  drifted: DriftObservation[],
  origin: Origin,
): Decision {
  const release = state.active;
  if (!state.service) return [];
  return drifted
    .filter((d) => !release?.drift.includes(d.instanceId))
    .map((d) => ({
      type: 'FleetDriftDetected',
      version: 1,
      actor: origin.actor,
      correlationId: release?.releaseId ?? `service:${state.service}`,
      causationId: origin.causationId,
      key: state.service!,
      data: { service: state.service!, releaseId: release?.releaseId ?? null, ...d },
    }));
}

/** A MARGINAL pause nobody answered rolls back once its timeout passed (time given by the caller). */
export function decidePauseTimeout(
  state: ServiceReleasesState,
  releaseId: string,
  now: Date,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.phase !== 'paused' || !release.pausedAt) return [];
  // A person's own pause waits for that person; only an unanswered MARGINAL verdict times out.
  if (!release.reason?.startsWith('analysis MARGINAL')) return [];
  const deadline = Date.parse(release.pausedAt) + release.plan.marginalTimeoutSeconds * 1000;
  if (now.getTime() < deadline) return [];
  return [
    event('ReleaseRollbackStarted', release, origin, {
      reason: `paused for more than ${release.plan.marginalTimeoutSeconds}s without a decision`,
    }),
  ];
}

/**
 * How long a step may take before the release stops waiting: its analysis window three times over,
 * plus a minute for instances and routes. Beyond it a silent router or analysis service must not
 * hold a canary's traffic share forever (fail safe: hold, then roll back).
 */
export function stepDeadlineSeconds(release: Release): number {
  const warm = release.steps[release.step]?.gate === 'warm' ? release.plan.warmSeconds : 0;
  return release.plan.stepSeconds * 3 + 60 + warm;
}

export function decideStepOverdue(
  state: ServiceReleasesState,
  releaseId: string,
  now: Date,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.phase !== 'progressing') return [];
  if (release.step < 0 || release.stepCompleted || !release.stepStartedAt) return [];
  const limit = stepDeadlineSeconds(release);
  if (now.getTime() < Date.parse(release.stepStartedAt) + limit * 1000) return [];
  return [
    event('ReleaseRollbackStarted', release, origin, {
      reason: `step ${release.step} (${release.steps[release.step]!.description}) did not complete within ${limit}s`,
    }),
  ];
}

export function decideRollbackDone(
  state: ServiceReleasesState,
  releaseId: string,
  origin: Origin,
): Decision {
  const release = running(state, releaseId);
  if (!release || release.phase !== 'rolling-back') return [];
  return [event('ReleaseRolledBack', release, origin, { reason: release.reason ?? 'rolled back' })];
}
