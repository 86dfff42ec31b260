import { eventCatalog, TOPICS, type EventEnvelope, type NewEvent } from '@rollgate/contracts';
import type { AuditEvent } from '../replay';

/**
 * A canary release history as the services would log it: release, routing and analysis events
 * on their topics, with fixed ids and times so tests and benchmarks are exact.
 */
export interface HistoryOptions {
  releaseId: string;
  service: string;
  /** Milliseconds since the epoch of the first event. */
  start: number;
  steps?: number[];
  intervalsPerStep?: number;
  /** Seconds between events. */
  spacing?: number;
  /** The last step's analysis fails and the release rolls back. */
  fail?: boolean;
  /** Which ReleaseStepCompleted version to write; old logs hold version 1. Default 2. */
  stepCompletedVersion?: 1 | 2;
}

const TOPIC_OF: Record<string, string> = Object.fromEntries(
  eventCatalog.all().map((d) => [d.type, d.topic.name]),
);

/** Turns the numbers into a UUIDv7-shaped id (time-ordered, deterministic). */
export function fixedId(ms: number, n: number): string {
  const time = ms.toString(16).padStart(12, '0').slice(-12);
  const tail = n.toString(16).padStart(12, '0').slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7000-8000-${tail}`;
}

export function releaseHistory(options: HistoryOptions): EventEnvelope[] {
  const { releaseId, service } = options;
  const steps = options.steps ?? [5, 25, 50];
  const intervals = options.intervalsPerStep ?? 2;
  const spacing = (options.spacing ?? 1) * 1000;
  let clock = options.start;
  let count = 0;
  let sequence = 0;
  const events: EventEnvelope[] = [];
  const at = () => new Date((clock += spacing)).toISOString();
  const emit = (
    input: Omit<NewEvent, 'correlationId' | 'key' | 'causationId' | 'version'> & {
      version?: number;
    },
  ) => {
    const occurredAt = at();
    const event = eventCatalog.create({
      version: 1,
      correlationId: releaseId,
      causationId: null,
      key: service,
      ...input,
      ...(TOPIC_OF[input.type] === TOPICS.releases.name ? { sequence: ++sequence } : {}),
      id: fixedId(Date.parse(occurredAt), ++count),
      occurredAt,
    });
    events.push(event);
    return event;
  };
  const ref = { releaseId, service };
  const digest = `sha256:${'ab'.repeat(32)}`;
  emit({
    type: 'ReleaseRequested',
    version: 2,
    actor: 'user:alice',
    data: {
      ...ref,
      artifact: { name: service, digest },
      strategy: 'canary',
      version: '2.0.0',
      plan: {
        replicas: 2,
        canarySteps: steps,
        stepSeconds: 10,
        maxSurge: 1,
        maxUnavailable: 0,
        marginalTimeoutSeconds: 60,
        warmSeconds: 0,
      },
    },
  });
  const orchestrator = 'service:orchestrator';
  for (let step = 0; step < steps.length; step++) {
    const canary = steps[step]!;
    const weights = { stable: 100 - 2 * canary, baseline: canary, canary };
    emit({
      type: 'ReleaseStepStarted',
      actor: orchestrator,
      data: { ...ref, step, description: `canary ${canary}%`, weights },
    });
    const requestId = `${releaseId}-route-${step}`;
    emit({
      type: 'RouteChangeRequested',
      actor: orchestrator,
      data: {
        ...ref,
        requestId,
        weights,
        backends: [
          {
            instanceId: `${service}-c${step}`,
            group: 'canary',
            host: '127.0.0.1',
            port: 9000 + step,
          },
        ],
      },
    });
    emit({
      type: 'RouteApplied',
      actor: 'service:router',
      data: { service, weights, dataPlane: 'embedded', requestId, releaseId },
    });
    const analysisRunId = `${releaseId}-run-${step}`;
    emit({
      type: 'AnalysisRequested',
      actor: orchestrator,
      data: {
        ...ref,
        analysisRunId,
        step,
        intervalSeconds: 5,
        maxIntervals: intervals,
        judge: 'kayenta',
      },
    });
    const failing = options.fail === true && step === steps.length - 1;
    for (let interval = 0; interval < intervals; interval++) {
      emit({
        type: 'AnalysisIntervalScored',
        actor: 'service:analysis',
        data: {
          ...ref,
          analysisRunId,
          interval,
          verdict: failing ? 'FAIL' : 'PASS',
          score: failing ? 10 : 95,
          reasons: [
            failing ? 'error-rate: canary 30% vs baseline 1%' : 'error-rate: no regression',
          ],
          canary: { requests: 100 + interval, errors: failing ? 30 : 1, p50Ms: 12, p99Ms: 40 },
          baseline: { requests: 100 + interval, errors: 1, p50Ms: 11, p99Ms: 38 },
        },
      });
    }
    emit({
      type: 'AnalysisVerdictReached',
      actor: 'service:analysis',
      data: {
        ...ref,
        analysisRunId,
        verdict: failing ? 'FAIL' : 'PASS',
        score: failing ? 10 : 95,
        reasons: [failing ? 'error-rate regressed' : 'no regression'],
      },
    });
    if (failing) {
      emit({
        type: 'ReleaseRollbackStarted',
        actor: orchestrator,
        data: { ...ref, reason: `analysis FAIL at step ${step}` },
      });
      emit({
        type: 'ReleaseRolledBack',
        actor: orchestrator,
        data: { ...ref, reason: 'stable serves all traffic' },
      });
      return events;
    }
    emit({
      type: 'ReleaseStepCompleted',
      actor: orchestrator,
      ...(options.stepCompletedVersion === 1
        ? { version: 1, data: { ...ref, step, evidence: 'analysis PASS (score 95)' } }
        : {
            version: 2,
            data: {
              ...ref,
              step,
              gate: { kind: 'analysis', evidence: 'analysis PASS (score 95)' },
            },
          }),
    });
  }
  emit({
    type: 'ReleaseSucceeded',
    actor: orchestrator,
    data: { ...ref, reason: 'all steps passed' },
  });
  return events;
}

/** Places events on their topics as a log would: per-topic partition by key, offsets counting up. */
export function asLogged(
  events: readonly EventEnvelope[],
  partition = 0,
  startOffsets: Record<string, number> = {},
): AuditEvent[] {
  const next = { ...startOffsets };
  return events.map((event) => {
    const topic = TOPIC_OF[event.type]!;
    const offset = next[topic] ?? 0;
    next[topic] = offset + 1;
    return { event, position: { topic, partition, offset } };
  });
}
