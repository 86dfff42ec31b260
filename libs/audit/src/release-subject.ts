import {
  JUDGE_FROM_CANARY_CONFIG,
  TOPICS,
  VERSION_GROUPS,
  type AnalysisIntervalScoredV1,
  type AnalysisRequestedV1,
  type AnalysisVerdictReachedV1,
  type EventEnvelope,
  type FleetDriftDetectedV1,
  type ReleaseApiGateCheckedV1,
  type ReleaseApiGateOverriddenV1,
  type ReleaseRequestedV1,
  type ReleaseStepCompletedV2,
  type ReleaseStepStartedV1,
  type RouteAppliedV1,
  type RouteApplyFailedV1,
  type RouteChangeRequestedV1,
  type Verdict,
} from '@rollgate/contracts';
import {
  evolveReleaseSummary,
  toReleaseView,
  type Release,
  type ReleaseView,
} from '@rollgate/releases';
import type { AuditSubject, EventDescription } from './replay';

type Side = AnalysisIntervalScoredV1['canary'];

export interface AuditedInterval {
  interval: number;
  at: string;
  verdict: Verdict;
  score: number | null;
  reasons: string[];
  canary: Side;
  baseline: Side;
  /** The judge and canary config version that scored it (absent in events from before). */
  judge?: string;
  canaryConfig?: AnalysisIntervalScoredV1['canaryConfig'];
  /** Each canary config metric's values and classification. */
  metrics?: AnalysisIntervalScoredV1['metrics'];
}

export interface AuditedAnalysis {
  analysisRunId: string;
  step: number;
  judge: string;
  intervalSeconds: number;
  maxIntervals: number;
  requestedAt: string;
  intervals: AuditedInterval[];
  verdict: { verdict: Verdict; score: number | null; reasons: string[]; at: string } | null;
}

export interface AuditedRoute {
  at: string;
  weights: Record<string, number>;
  dataPlane: string;
  requestId: string | null;
}

/** A release as the log tells it: the orchestrator's summary plus routing and analysis evidence. */
export interface ReleaseAuditState {
  releaseId: string;
  /** The same pure fold the orchestrator's read model uses (libs/releases); null before it was requested. */
  release: Release | null;
  requestedBy: string | null;
  requestedAt: string | null;
  /** Sequence of the last release event folded: repeats are ignored exactly like the read model does. */
  lastSequence: number;
  requestedWeights: Record<string, number> | null;
  /** Every route a data plane confirmed for this release, in order. */
  routes: AuditedRoute[];
  routeFailures: { at: string; dataPlane: string; reason: string }[];
  analyses: AuditedAnalysis[];
}

export type { ReleaseView };

/** The release the way GET /releases/:id shows it, rebuilt from the log. */
export function releaseView(state: ReleaseAuditState): ReleaseView | null {
  if (!state.release) return null;
  return toReleaseView(state.release, {
    id: state.releaseId,
    requestedBy: state.requestedBy!,
    requestedAt: state.requestedAt!,
  });
}

const GROUP_ORDER: readonly string[] = VERSION_GROUPS;

/** "stable 75, canary 25": groups in a fixed order so the same weights always read the same. */
export function formatWeights(weights: Record<string, number> | null | undefined): string {
  if (!weights) return 'none';
  const groups = Object.keys(weights).sort((a, b) => {
    const ra = GROUP_ORDER.indexOf(a) === -1 ? GROUP_ORDER.length : GROUP_ORDER.indexOf(a);
    const rb = GROUP_ORDER.indexOf(b) === -1 ? GROUP_ORDER.length : GROUP_ORDER.indexOf(b);
    return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
  });
  return groups.map((g) => `${g} ${weights[g]}`).join(', ') || 'none';
}

/**
 * Each config metric of an interval on one line: `checkouts (embedded): canary 0.4, baseline 5.1
 * → High; latency (latency): …`; a missing value is `no data`.
 */
export function formatIntervalMetrics(
  metrics: AnalysisIntervalScoredV1['metrics'] | undefined,
): string {
  const value = (v: number | undefined) =>
    v === undefined ? 'no data' : String(Number(v.toPrecision(4)));
  return (metrics ?? [])
    .map(
      (m) =>
        `${m.name} (${m.measuredBy}): canary ${value(m.canary)}, baseline ${value(m.baseline)}${m.classification ? ` → ${m.classification}` : ''}`,
    )
    .join('; ');
}

function formatSide(side: Side): string {
  const rate = side.requests === 0 ? 0 : (side.errors / side.requests) * 100;
  const latency =
    side.p50Ms !== undefined || side.p99Ms !== undefined
      ? `, p50 ${side.p50Ms ?? '-'} ms, p99 ${side.p99Ms ?? '-'} ms`
      : '';
  return `${side.errors}/${side.requests} errors (${rate.toFixed(2)}%)${latency}`;
}

const RELEASE_TOPIC = TOPICS.releases.name;

function updateAnalysis(
  state: ReleaseAuditState,
  runId: string,
  change: (run: AuditedAnalysis) => AuditedAnalysis,
): ReleaseAuditState {
  const index = state.analyses.findIndex((a) => a.analysisRunId === runId);
  if (index === -1) return state;
  const analyses = state.analyses.slice();
  analyses[index] = change(analyses[index]!);
  return { ...state, analyses };
}

function evolve(state: ReleaseAuditState, event: EventEnvelope): ReleaseAuditState {
  switch (event.type) {
    case 'RouteChangeRequested': {
      const data = event.data as RouteChangeRequestedV1;
      return { ...state, requestedWeights: data.weights };
    }
    case 'RouteApplied': {
      const data = event.data as RouteAppliedV1;
      return {
        ...state,
        routes: [
          ...state.routes,
          {
            at: event.occurredAt,
            weights: data.weights,
            dataPlane: data.dataPlane,
            requestId: data.requestId ?? null,
          },
        ],
      };
    }
    case 'RouteApplyFailed': {
      const data = event.data as RouteApplyFailedV1;
      return {
        ...state,
        routeFailures: [
          ...state.routeFailures,
          { at: event.occurredAt, dataPlane: data.dataPlane, reason: data.reason },
        ],
      };
    }
    case 'AnalysisRequested': {
      const data = event.data as AnalysisRequestedV1;
      if (state.analyses.some((a) => a.analysisRunId === data.analysisRunId)) return state;
      return {
        ...state,
        analyses: [
          ...state.analyses,
          {
            analysisRunId: data.analysisRunId,
            step: data.step,
            judge: data.judge,
            intervalSeconds: data.intervalSeconds,
            maxIntervals: data.maxIntervals,
            requestedAt: event.occurredAt,
            intervals: [],
            verdict: null,
          },
        ],
      };
    }
    case 'AnalysisIntervalScored': {
      const data = event.data as AnalysisIntervalScoredV1;
      return updateAnalysis(state, data.analysisRunId, (run) => ({
        ...run,
        intervals: [
          ...run.intervals,
          {
            interval: data.interval,
            at: event.occurredAt,
            verdict: data.verdict,
            score: data.score ?? null,
            reasons: data.reasons,
            canary: data.canary,
            baseline: data.baseline,
            ...(data.judge && { judge: data.judge }),
            ...(data.canaryConfig && { canaryConfig: data.canaryConfig }),
            ...(data.metrics && { metrics: data.metrics }),
          },
        ],
      }));
    }
    case 'AnalysisVerdictReached': {
      const data = event.data as AnalysisVerdictReachedV1;
      return updateAnalysis(state, data.analysisRunId, (run) => ({
        ...run,
        verdict: {
          verdict: data.verdict,
          score: data.score ?? null,
          reasons: data.reasons,
          at: event.occurredAt,
        },
      }));
    }
    default:
      return evolveRelease(state, event);
  }
}

/** Exactly the orchestrator's `releases` projection: the summary fold, repeats skipped by sequence. */
function evolveRelease(state: ReleaseAuditState, event: EventEnvelope): ReleaseAuditState {
  if ((event.data as { releaseId?: unknown }).releaseId !== state.releaseId) return state;
  if (state.release && state.lastSequence >= (event.sequence ?? 0)) return state;
  const after = evolveReleaseSummary(state.release ?? undefined, event);
  if (!after || after === state.release) return state;
  return {
    ...state,
    release: after,
    requestedBy: state.requestedBy ?? event.actor,
    requestedAt: state.requestedAt ?? event.occurredAt,
    lastSequence: event.sequence ?? 0,
  };
}

function describe(event: EventEnvelope, before: ReleaseAuditState): EventDescription {
  const data = event.data as Record<string, unknown>;
  const reason = typeof data['reason'] === 'string' ? (data['reason'] as string) : null;
  switch (event.type) {
    case 'ReleaseRequested': {
      const d = data as unknown as ReleaseRequestedV1;
      return {
        summary: `requested a ${d.strategy} release of ${d.artifact.name}${d.version ? ` ${d.version}` : ''} (${d.artifact.digest.slice(0, 19)}) to ${d.service}${d.firstRelease ? ' (first release)' : ''}`,
        reason: null,
        details: { artifact: d.artifact, strategy: d.strategy, plan: d.plan ?? null },
      };
    }
    case 'ReleaseStepStarted': {
      const d = data as unknown as ReleaseStepStartedV1;
      return {
        summary: `step ${d.step} started: ${d.description} (target ${formatWeights(d.weights as Record<string, number>)})`,
        reason: null,
        details: { step: d.step, weights: d.weights },
      };
    }
    case 'ReleaseStepCompleted': {
      const d = data as unknown as ReleaseStepCompletedV2;
      return {
        summary: `step ${d.step} passed its ${d.gate.kind} gate`,
        reason: d.gate.evidence,
        details: { step: d.step, gate: d.gate.kind },
      };
    }
    case 'ReleaseApiGateChecked': {
      const d = data as unknown as ReleaseApiGateCheckedV1;
      const when = d.rollback
        ? `rolling back from step ${d.step}`
        : d.step < 0
          ? 'at the request'
          : `before step ${d.step}`;
      return {
        summary: `API gate ${d.verdict} ${when} (policy ${d.policy})`,
        reason: d.findings.join('; ') || null,
        details: { verdict: d.verdict, policy: d.policy, findings: d.findings, notes: d.notes },
      };
    }
    case 'ReleaseApiGateOverridden': {
      const d = data as unknown as ReleaseApiGateOverriddenV1;
      return {
        summary: `API gate overridden by ${event.actor} despite ${d.findings.length} finding(s)`,
        reason: d.reason,
        details: { forcedBy: event.actor, findings: d.findings },
      };
    }
    case 'FleetDriftDetected': {
      const d = data as unknown as FleetDriftDetectedV1;
      return {
        summary: `drift: instance ${d.instanceId} runs ${d.reportedDigest ?? 'nothing it can report'}, intended ${d.intendedDigest}`,
        reason: null,
        details: { instanceId: d.instanceId },
      };
    }
    case 'RouteChangeRequested': {
      const d = data as unknown as RouteChangeRequestedV1;
      return {
        summary: `asked the router for ${formatWeights(d.weights)} over ${d.backends.length} instance(s)`,
        reason: null,
        details: { requestId: d.requestId, weights: d.weights },
      };
    }
    case 'RouteApplied': {
      const d = data as unknown as RouteAppliedV1;
      return {
        summary: `${d.dataPlane} data plane confirmed ${formatWeights(d.weights)}`,
        reason: null,
        details: { requestId: d.requestId ?? null, weights: d.weights, dataPlane: d.dataPlane },
      };
    }
    case 'RouteApplyFailed': {
      const d = data as unknown as RouteApplyFailedV1;
      return {
        summary: `${d.dataPlane} data plane did not confirm the route`,
        reason: d.reason,
        details: { requestId: d.requestId },
      };
    }
    case 'AnalysisRequested': {
      const d = data as unknown as AnalysisRequestedV1;
      return {
        summary: `analysis ${d.analysisRunId} of step ${d.step}: ${d.judge === JUDGE_FROM_CANARY_CONFIG ? "the canary config's" : d.judge} judge, up to ${d.maxIntervals} intervals of ${d.intervalSeconds}s`,
        reason: null,
        details: { analysisRunId: d.analysisRunId, step: d.step, judge: d.judge },
      };
    }
    case 'AnalysisIntervalScored': {
      const d = data as unknown as AnalysisIntervalScoredV1;
      return {
        summary: `interval ${d.interval} scored ${d.verdict}${d.score !== undefined ? ` (score ${d.score})` : ''}${d.judge ? ` by ${d.judge}` : ''}${d.canaryConfig ? ` (canary config ${d.canaryConfig.name} v${d.canaryConfig.version})` : ''}: canary ${formatSide(d.canary)}; baseline ${formatSide(d.baseline)}${d.metrics?.length ? `; metrics: ${formatIntervalMetrics(d.metrics)}` : ''}`,
        reason: d.reasons.join('; ') || null,
        details: {
          analysisRunId: d.analysisRunId,
          interval: d.interval,
          verdict: d.verdict,
          score: d.score ?? null,
          judge: d.judge ?? null,
          canaryConfig: d.canaryConfig ?? null,
          metrics: d.metrics ?? null,
          canary: d.canary,
          baseline: d.baseline,
        },
      };
    }
    case 'AnalysisVerdictReached': {
      const d = data as unknown as AnalysisVerdictReachedV1;
      const run = before.analyses.find((a) => a.analysisRunId === d.analysisRunId);
      return {
        summary: `verdict ${d.verdict}${d.score !== undefined ? ` (score ${d.score})` : ''}${run ? ` for step ${run.step}` : ''}`,
        reason: d.reasons.join('; ') || null,
        details: { analysisRunId: d.analysisRunId, verdict: d.verdict, score: d.score ?? null },
      };
    }
    default: {
      const verb = event.type
        .replace(/^Release/, '')
        .replace(/([a-z])([A-Z])/g, '$1 $2')
        .toLowerCase();
      return { summary: verb || event.type, reason, details: {} };
    }
  }
}

function digest(state: ReleaseAuditState): Record<string, string> {
  const view: Record<string, string> = {};
  const release = state.release;
  if (release) {
    view['phase'] = release.phase;
    view['step'] =
      release.step < 0
        ? 'not started'
        : `${release.step} (${release.steps[release.step]?.description ?? '?'})${release.stepCompleted ? ' passed' : ''}`;
    if (release.reason) view['reason'] = release.reason;
    if (release.drift.length > 0) view['drift'] = release.drift.join(', ');
    if (release.promoteFull) view['promote'] = 'full';
  }
  if (state.requestedWeights) view['requested weights'] = formatWeights(state.requestedWeights);
  const route = state.routes[state.routes.length - 1];
  if (route) view['weights'] = formatWeights(route.weights);
  for (const run of state.analyses) {
    view[`analysis step ${run.step}`] = run.verdict
      ? `${run.verdict.verdict} after ${run.intervals.length} interval(s)`
      : `running, ${run.intervals.length} interval(s)`;
  }
  return view;
}

/** A release and everything that touched it: release, routing and analysis events. */
export function releaseSubject(releaseId: string): AuditSubject<ReleaseAuditState> {
  return {
    kind: 'release',
    id: releaseId,
    topics: [RELEASE_TOPIC, TOPICS.routing.name, TOPICS.analysis.name],
    keyedAlike: true,
    belongs: (event) =>
      event.correlationId === releaseId ||
      (event.data as { releaseId?: unknown } | null)?.releaseId === releaseId,
    initial: () => ({
      releaseId,
      release: null,
      requestedBy: null,
      requestedAt: null,
      lastSequence: 0,
      requestedWeights: null,
      routes: [],
      routeFailures: [],
      analyses: [],
    }),
    evolve,
    describe: (event, before) => describe(event, before),
    digest,
  };
}
