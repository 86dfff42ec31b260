import type {
  ApiGatePolicy,
  ApiGateVerdict,
  ArtifactRef,
  EventEnvelope,
  FleetDriftDetectedV1,
  ReleaseApiGateCheckedV1,
  ReleaseApiGateOverriddenV1,
  ReleasePlan,
  ReleaseRequestedV2,
  ReleaseStepCompletedV1,
  ReleaseStepStartedV1,
  ReleaseStrategy,
} from '@rollgate/contracts';
import type { Aggregate } from '@rollgate/event-sourcing';
import type { LowTrafficChoices } from './low-traffic-policy';
import { DEFAULT_PLAN, stepsOf, type Step } from './plan';

export type ReleasePhase =
  'progressing' | 'paused' | 'rolling-back' | 'succeeded' | 'rolled-back' | 'aborted';

export const FINAL_PHASES: readonly ReleasePhase[] = ['succeeded', 'rolled-back', 'aborted'];

export interface Release {
  releaseId: string;
  service: string;
  artifact: ArtifactRef;
  version: string;
  strategy: ReleaseStrategy;
  plan: ReleasePlan;
  steps: Step[];
  phase: ReleasePhase;
  /** Index of the current step; -1 before the first one started. */
  step: number;
  stepStartedAt: string | null;
  stepCompleted: boolean;
  /** Why it is paused, rolling back or ended, in words. */
  reason: string | null;
  pausedAt: string | null;
  /** Set when a person asked to skip the remaining steps. */
  promoteFull: boolean;
  /** Instances that run a build the orchestrator did not intend; the release cannot advance. */
  drift: string[];
  /** The API compatibility gate's last verdict (absent on releases from before the gate). */
  apiGate?: ApiGateState | null;
  /** The service policy version the release took its defaults from (absent: none). */
  policy?: { version: number };
  /** The canary config that judges it; absent: the one named after the service. */
  canaryConfig?: string;
  /** What the release may do when traffic is too low to compare (absent: built-in behaviour). */
  lowTraffic?: LowTrafficChoices;
  /** The service's owners, from its policy. */
  owners?: string[];
  updatedAt: string;
}

export interface ApiGateState {
  verdict: ApiGateVerdict;
  policy: ApiGatePolicy;
  /** The step it was checked before (-1: the request). */
  step: number;
  findings: string[];
  notes: string[];
  /** Who released despite the findings, and why. */
  overridden: { by: string; reason: string } | null;
}

/** Breaking findings nobody overrode: the release does not start its next step. */
export function apiGateHolds(release: Release): boolean {
  return release.apiGate?.verdict === 'breaking' && !release.apiGate.overridden;
}

/** All releases of one service: the stream that keeps "one active release per service" consistent. */
export interface ServiceReleasesState {
  service: string | null;
  stable: { artifact: ArtifactRef; version: string; replicas: number } | null;
  active: Release | null;
  releaseIds: string[];
}

type Data = { releaseId: string; reason?: string };

/** The version people read: the label the release gave, else the start of the digest. */
export const versionLabel = (artifact: ArtifactRef, version?: string) =>
  version ?? artifact.digest.slice(7, 19);

function withActive(
  state: ServiceReleasesState,
  event: EventEnvelope,
  change: (release: Release) => Partial<Release>,
): ServiceReleasesState {
  const active = state.active;
  if (!active || active.releaseId !== (event.data as Data).releaseId) return state;
  return { ...state, active: { ...active, ...change(active), updatedAt: event.occurredAt } };
}

function ended(state: ServiceReleasesState, phase: ReleasePhase): ServiceReleasesState {
  return {
    ...state,
    active: null,
    ...(phase === 'succeeded' && state.active
      ? {
          stable: {
            artifact: state.active.artifact,
            version: state.active.version,
            replicas: state.active.plan.replicas,
          },
        }
      : {}),
  };
}

/** Folds the release events of one service. Pure: time only from `occurredAt`. */
export const serviceReleases: Aggregate<ServiceReleasesState> = {
  name: 'service-releases',
  initial: () => ({ service: null, stable: null, active: null, releaseIds: [] }),
  evolve(state, event) {
    const reason = (event.data as Data).reason ?? null;
    switch (event.type) {
      case 'ReleaseRequested': {
        const data = event.data as ReleaseRequestedV2;
        const plan = data.plan ?? DEFAULT_PLAN;
        return {
          ...state,
          service: data.service,
          releaseIds: [...state.releaseIds, data.releaseId],
          active: {
            releaseId: data.releaseId,
            service: data.service,
            artifact: data.artifact,
            version: versionLabel(data.artifact, data.version),
            strategy: data.strategy,
            plan,
            steps: stepsOf(data.strategy, plan, data.firstRelease ?? false),
            phase: 'progressing',
            step: -1,
            stepStartedAt: null,
            stepCompleted: true,
            reason: null,
            pausedAt: null,
            promoteFull: false,
            drift: [],
            ...(data.policy && { policy: data.policy }),
            ...(data.canaryConfig && { canaryConfig: data.canaryConfig }),
            ...(data.lowTraffic && { lowTraffic: data.lowTraffic }),
            ...(data.owners && { owners: data.owners }),
            updatedAt: event.occurredAt,
          },
        };
      }
      case 'ReleaseStepStarted': {
        const data = event.data as ReleaseStepStartedV1;
        return withActive(state, event, () => ({
          step: data.step,
          stepStartedAt: event.occurredAt,
          stepCompleted: false,
        }));
      }
      case 'ReleaseStepCompleted': {
        const data = event.data as ReleaseStepCompletedV1;
        return withActive(state, event, (r) =>
          r.step === data.step ? { stepCompleted: true } : {},
        );
      }
      case 'ReleasePaused':
        return withActive(state, event, () => ({
          phase: 'paused',
          reason,
          pausedAt: event.occurredAt,
        }));
      case 'ReleaseResumed':
        if (state.active?.phase === 'rolling-back') return state;
        return withActive(state, event, () => ({
          phase: 'progressing',
          reason: null,
          pausedAt: null,
          drift: [],
        }));
      case 'ReleasePromoted':
        return withActive(state, event, () => ({
          promoteFull: true,
          phase: 'progressing',
          pausedAt: null,
        }));
      case 'ReleaseRollbackStarted':
      case 'ReleaseAborted':
        return withActive(state, event, () => ({ phase: 'rolling-back', reason }));
      case 'FleetDriftDetected': {
        const data = event.data as FleetDriftDetectedV1;
        return withActive({ ...state }, { ...event, data: { releaseId: data.releaseId } }, (r) => ({
          drift: r.drift.includes(data.instanceId) ? r.drift : [...r.drift, data.instanceId],
        }));
      }
      case 'ReleaseApiGateChecked': {
        const data = event.data as ReleaseApiGateCheckedV1;
        // A rollback's check is a warning on the record: it changes nothing of the release.
        if (data.rollback) return withActive(state, event, () => ({}));
        return withActive(state, event, (r) => ({
          apiGate: {
            verdict: data.verdict,
            policy: data.policy,
            step: data.step,
            findings: data.findings,
            notes: data.notes,
            overridden: r.apiGate?.overridden ?? null,
          },
        }));
      }
      case 'ReleaseApiGateOverridden': {
        const data = event.data as ReleaseApiGateOverriddenV1;
        return withActive(state, event, (r) =>
          r.apiGate
            ? { apiGate: { ...r.apiGate, overridden: { by: event.actor, reason: data.reason } } }
            : {},
        );
      }
      case 'ReleaseRolledBack':
        return ended(
          withActive(state, event, () => ({})),
          state.active?.reason?.startsWith('aborted') ? 'aborted' : 'rolled-back',
        );
      case 'ReleaseSucceeded':
        return ended(state, 'succeeded');
      default:
        return state;
    }
  },
};

/**
 * One release's own story, for read models: the same fold as the service stream, kept after the
 * release ends with its final phase.
 */
export function evolveReleaseSummary(
  summary: Release | undefined,
  event: EventEnvelope,
): Release | undefined {
  const before: ServiceReleasesState = {
    service: summary?.service ?? null,
    stable: null,
    active: summary ?? null,
    releaseIds: summary ? [summary.releaseId] : [],
  };
  const after = serviceReleases.evolve(before, event);
  if (after.active) return after.active;
  if (!summary || before.active === null) return summary;
  const finalPhase: ReleasePhase =
    event.type === 'ReleaseSucceeded'
      ? 'succeeded'
      : summary.reason?.startsWith('aborted')
        ? 'aborted'
        : 'rolled-back';
  return { ...summary, phase: finalPhase, updatedAt: event.occurredAt };
}

/** A release the way GET /releases/:id shows it; the audit replay rebuilds the same shape. */
export interface ReleaseView {
  id: string;
  service: string;
  artifact: ArtifactRef;
  version: string;
  strategy: string;
  phase: string;
  step: number;
  steps: { description: string; weights: Record<string, number> }[];
  stepCompleted: boolean;
  reason: string | null;
  drift: string[];
  apiGate: ApiGateState | null;
  plan: ReleasePlan;
  policy?: { version: number };
  canaryConfig?: string;
  lowTraffic?: LowTrafficChoices;
  owners?: string[];
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
}

/** The one mapping from the fold to the view, so a replay equals what the API shows. */
export function toReleaseView(
  release: Release,
  request: { id: string; requestedBy: string; requestedAt: string },
): ReleaseView {
  return {
    id: request.id,
    service: release.service,
    artifact: release.artifact,
    version: release.version,
    strategy: release.strategy,
    phase: release.phase,
    step: release.step,
    steps: release.steps.map((s) => ({
      description: s.description,
      weights: s.weights as Record<string, number>,
    })),
    stepCompleted: release.stepCompleted,
    reason: release.reason,
    drift: release.drift,
    apiGate: release.apiGate ?? null,
    plan: { ...release.plan },
    ...(release.policy && { policy: release.policy }),
    ...(release.canaryConfig && { canaryConfig: release.canaryConfig }),
    ...(release.lowTraffic && { lowTraffic: release.lowTraffic }),
    ...(release.owners && { owners: release.owners }),
    requestedBy: request.requestedBy,
    requestedAt: request.requestedAt,
    updatedAt: release.updatedAt,
  };
}
