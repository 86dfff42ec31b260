/** One synthetic user request, as the demo's traffic generator saw it. */
export interface ServedRequest {
  /** When it was sent (epoch ms). */
  sentAt: number;
  /** When its answer (or its failure) arrived (epoch ms). */
  answeredAt: number;
  /** The version the answering instance runs; null when no instance answered. */
  version: string | null;
  /** The version group the data plane routed it to; null when no instance answered. */
  group: string | null;
  /** A 5xx answer, a timeout or a refused connection. */
  failed: boolean;
}

/** One event of a release's timeline (GET /releases/:id/timeline), the fields the report reads. */
export interface TimelineEvent {
  type: string;
  occurredAt: string;
  reason: string | null;
  details: Record<string, unknown>;
}

export type ReleaseOutcome = 'promoted' | 'rolled_back' | 'paused';

export interface RequestCount {
  total: number;
  failed: number;
}

/** One release in `rollgate demo --json`. */
export interface ReleaseReport {
  version: string;
  strategy: string;
  releaseId: string;
  outcome: ReleaseOutcome;
  reason: string | null;
  /** From the first request the new version answered to the first stop (pause, rollback, abort). */
  detectedAfterMs: number | null;
  /** From the first request the new version answered to the data plane confirming stable 100%. */
  rollbackCompletedAfterMs: number | null;
  /** The highest share of traffic the data plane confirmed for the new build. */
  peakNewVersionPercent: number;
  /** Requests sent while the release ran (from its request to its end). */
  requests: RequestCount;
  /** The same requests by the group the data plane sent them to; `unanswered`: no instance did. */
  requestsByGroup: Record<string, RequestCount>;
  requestsByVersion: Record<string, RequestCount>;
}

/** The events that stop a release going forward: the moment a problem was detected. */
const STOPS = new Set(['ReleasePaused', 'ReleaseRollbackStarted', 'ReleaseAborted']);
const ENDS = new Set(['ReleaseSucceeded', 'ReleaseRolledBack']);
/** The groups that run the new build while a release progresses. */
const NEW_BUILD_GROUPS = ['canary', 'green'];

const at = (event: TimelineEvent | undefined) =>
  event ? Date.parse(event.occurredAt) : Number.NaN;

const weightsOf = (event: TimelineEvent): Record<string, number> =>
  (event.details['weights'] ?? {}) as Record<string, number>;

function count(requests: readonly ServedRequest[], key: (r: ServedRequest) => string) {
  const counts: Record<string, RequestCount> = {};
  for (const request of requests) {
    const entry = (counts[key(request)] ??= { total: 0, failed: 0 });
    entry.total++;
    if (request.failed) entry.failed++;
  }
  return counts;
}

/**
 * What one release did to the users: pure, from the release's timeline (the log's own times) and
 * the requests the demo sent. `phase` is the release's phase when the demo stopped watching it.
 */
export function releaseReport(
  release: { releaseId: string; version: string; strategy: string; phase: string },
  timeline: readonly TimelineEvent[],
  served: readonly ServedRequest[],
): ReleaseReport {
  const requested = timeline.find((e) => e.type === 'ReleaseRequested');
  const stop = timeline.find((e) => STOPS.has(e.type));
  const end =
    timeline.find((e) => ENDS.has(e.type)) ?? (release.phase === 'paused' ? stop : undefined);
  const from = at(requested);
  const until = Number.isNaN(at(end)) ? Number.POSITIVE_INFINITY : at(end);
  const during = served.filter((r) => r.sentAt >= from && r.sentAt <= until);

  const firstServed = Math.min(
    ...during.filter((r) => r.version === release.version).map((r) => r.answeredAt),
  );
  const since = (time: number) =>
    Number.isFinite(firstServed) && Number.isFinite(time)
      ? Math.max(0, Math.round(time - firstServed))
      : null;

  const outcome: ReleaseOutcome =
    release.phase === 'succeeded'
      ? 'promoted'
      : release.phase === 'paused'
        ? 'paused'
        : 'rolled_back';
  const routes = timeline.filter((e) => e.type === 'RouteApplied');
  const stableAgain =
    outcome === 'rolled_back' && stop
      ? routes.find((e) => at(e) >= at(stop) && weightsOf(e)['stable'] === 100)
      : undefined;
  const beforeStop = routes.filter((e) => !stop || at(e) <= at(stop));
  const peak = Math.max(
    0,
    ...beforeStop.flatMap((e) => NEW_BUILD_GROUPS.map((group) => weightsOf(e)[group] ?? 0)),
  );

  return {
    version: release.version,
    strategy: release.strategy,
    releaseId: release.releaseId,
    outcome,
    reason: stop?.reason ?? null,
    detectedAfterMs: outcome === 'promoted' ? null : since(at(stop)),
    rollbackCompletedAfterMs: since(at(stableAgain)),
    peakNewVersionPercent: peak,
    requests: {
      total: during.length,
      failed: during.filter((r) => r.failed).length,
    },
    requestsByGroup: count(during, (r) => r.group ?? 'unanswered'),
    requestsByVersion: count(during, (r) => r.version ?? 'unanswered'),
  };
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
const share = (c: RequestCount) => `${c.failed}/${c.total} failed`;

/** The human summary of one release: what happened and what the users saw. */
export function formatReleaseReport(report: ReleaseReport): string[] {
  const what =
    report.outcome === 'promoted'
      ? 'promoted'
      : report.outcome === 'paused'
        ? `paused ${seconds(report.detectedAfterMs)} after it answered its first request`
        : `rolled back: detected ${seconds(report.detectedAfterMs)} after it answered its first request, all traffic on stable again after ${seconds(report.rollbackCompletedAfterMs)}`;
  const { total, failed } = report.requests;
  const groups = Object.entries(report.requestsByGroup)
    .map(([group, c]) => `${group} ${share(c)}`)
    .join(', ');
  return [
    `${report.version} (${report.strategy}): ${what}`,
    `  users: ${failed} of ${total} requests failed (${((failed / Math.max(1, total)) * 100).toFixed(1)}%); ${groups}`,
    ...(report.outcome === 'promoted'
      ? []
      : [
          `  ${report.version} never took more than ${report.peakNewVersionPercent}% of the traffic`,
        ]),
  ];
}
