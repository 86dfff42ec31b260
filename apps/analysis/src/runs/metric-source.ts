import type { CanaryMetric } from '../canary-configs/canary-config';
import {
  addTotals,
  expositionQueries,
  expositionReadings,
  expositionTotals,
  parseExposition,
  type ExposedTotals,
} from './custom-metrics';
import {
  GROUPS,
  emptyGroup,
  type AnalysedGroup,
  type GroupSignals,
  type WindowSignals,
} from './signals';

/**
 * Where an analysis run reads the golden signals. A source hands out an opaque cursor (plain
 * JSON, stored with the run) and later answers "what happened since this cursor". Both methods
 * reject when the source cannot answer: the run counts that interval as NODATA, never as quiet.
 */
export interface MetricSource {
  readonly kind: string;
  /** A cursor for "now": the start of a run that also measures the config's `metrics`. */
  mark(service: string, metrics?: readonly CanaryMetric[]): Promise<string>;
  /**
   * Canary and baseline signals from `cursor` until now, and the cursor to continue from; with
   * `metrics`, also the value of each config metric whose query this source runs (`custom`).
   * `signals` is null when the source answered but the interval cannot be trusted (e.g. its
   * counters restarted); `problem` then says why. `requestsQuery`: the config's PromQL template
   * of each group's requests (sources that count requests themselves ignore it).
   */
  readSince(
    service: string,
    cursor: string,
    metrics?: readonly CanaryMetric[],
    requestsQuery?: string,
  ): Promise<SourceReading>;
}

export interface SourceReading {
  signals: WindowSignals | null;
  cursor: string;
  problem?: string;
  /**
   * Why a new measurement epoch began since `cursor` (the data plane restarted, the instances
   * measured were replaced): the interval straddles it, so it is discarded rather than scored,
   * and the next one starts from `cursor`.
   */
  newEpoch?: string;
}

/** What the router's embedded proxy reports per group (GET /routes/:service/stats). */
interface RouterGroupStats {
  requests: number;
  errors: number;
  latency?: { boundsMs: number[]; counts: number[]; sumMs: number };
}

interface RouterStats {
  /** One life of the counters (routers before epochs were reported leave it out). */
  epoch?: string;
  groups: Record<string, RouterGroupStats | undefined>;
}

/** Cumulative counters of one group when the cursor was taken. */
interface CounterSnapshot {
  requests: number;
  errors: number;
  counts: number[];
  sumMs: number;
}

export interface EmbeddedCursor {
  at: number;
  /** The counters' epoch; null when the router does not report one. */
  epoch: string | null;
  /** Instance ids per analysed group in the route; null when the route could not be read. */
  instances: Record<string, string[]> | null;
  groups: Record<string, CounterSnapshot>;
  /** Per group, the totals of the config metrics the instances expose (null: unreadable). */
  exposed?: Partial<Record<AnalysedGroup, ExposedTotals | null>>;
  /** Why a group's exposition could not be read. */
  unexposed?: Partial<Record<AnalysedGroup, string>>;
}

/**
 * The embedded proxy's per-group counters and latency histograms, from the router over HTTP.
 * The proxy counts since it started, so a cursor is a snapshot of the counters (with their epoch
 * and the instances they count for) and an interval is the difference. Saturation is the time the
 * group's requests spent in flight (the histogram's latency sum) divided by the interval and by
 * the group's instances in the route. A canary config's own metrics are read from each routed
 * instance's `/metrics` (Prometheus text format), summed per group, differenced the same way.
 */
export class RouterStatsSource implements MetricSource {
  readonly kind = 'embedded';

  constructor(
    private readonly routerUrl: string,
    private readonly fleet: FleetClock,
  ) {}

  async mark(service: string, metrics: readonly CanaryMetric[] = []): Promise<string> {
    return JSON.stringify((await this.snapshotNow(service, metrics)).cursor);
  }

  async readSince(
    service: string,
    cursor: string,
    metrics: readonly CanaryMetric[] = [],
  ): Promise<SourceReading> {
    const before = JSON.parse(cursor) as EmbeddedCursor;
    const { cursor: now, route } = await this.snapshotNow(service, metrics);
    const next = JSON.stringify(now);
    const newEpoch = epochChange(before, now) ?? (await this.staleRoute(service, route));
    if (newEpoch) return { signals: null, cursor: next, newEpoch };
    const signals = difference(before, now);
    const queries = expositionQueries(metrics);
    if (queries.length > 0)
      signals.custom = expositionReadings(
        queries,
        before.exposed ?? {},
        now.exposed ?? {},
        (now.at - before.at) / 1000,
        { ...before.unexposed, ...now.unexposed },
      );
    return { signals, cursor: next };
  }

  private async snapshotNow(
    service: string,
    metrics: readonly CanaryMetric[],
  ): Promise<{ cursor: EmbeddedCursor; route: RouteSeen | null }> {
    const [stats, route] = await Promise.all([this.stats(service), this.route(service)]);
    const cursor = snapshot(stats, route?.instances ?? null, Date.now());
    const queries = expositionQueries(metrics).map((q) => q.query);
    if (queries.length > 0) Object.assign(cursor, await exposedTotals(route, queries));
    return { cursor, route };
  }

  /**
   * Why the route measured names instances of an earlier life of the fleet, or null. A data plane
   * restores its routes when it restarts; if the fleet restarted too (the embedded host, or the
   * orchestrator whose children the instances are), those instances are gone until the
   * orchestrator routes to new ones, and requests to them say nothing about either build. The
   * fleet is asked every interval: a route current a moment ago goes stale when the fleet restarts.
   */
  private async staleRoute(service: string, route: RouteSeen | null): Promise<string | null> {
    if (!route?.appliedAt) return null;
    let fleetStartedAt: string;
    try {
      fleetStartedAt = await this.fleet.startedAt(service);
    } catch (error) {
      return `cannot tell whether the routed instances still run: ${(error as Error).message}`;
    }
    if (Date.parse(route.appliedAt) < Date.parse(fleetStartedAt)) {
      return `the route was confirmed at ${route.appliedAt}, before the fleet restarted at ${fleetStartedAt}: its instances are gone until new ones are routed`;
    }
    return null;
  }

  private async stats(service: string): Promise<RouterStats> {
    const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}/stats`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok)
      throw new Error(`router answered ${response.status} for ${service} statistics`);
    return (await response.json()) as RouterStats;
  }

  /** The confirmed route's instance ids per analysed group; null when it cannot be read. */
  private async route(service: string): Promise<RouteSeen | null> {
    try {
      const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) return null;
      const route = (await response.json()) as {
        backends?: Record<string, { id: string; host?: string; port?: number }[]>;
        appliedAt?: string | null;
      };
      const backends = (group: string) => route.backends?.[group] ?? [];
      return {
        instances: Object.fromEntries(
          GROUPS.map((group) => [
            group,
            backends(group)
              .map((b) => b.id)
              .sort(),
          ]),
        ),
        addresses: Object.fromEntries(
          GROUPS.map((group) => [
            group,
            backends(group).flatMap((b) => (b.host && b.port ? [`${b.host}:${b.port}`] : [])),
          ]),
        ),
        appliedAt: route.appliedAt ?? null,
      };
    } catch {
      return null;
    }
  }
}

interface RouteSeen {
  instances: Record<string, string[]>;
  /** `host:port` of each routed instance per analysed group. */
  addresses: Record<string, string[]>;
  /** When the router confirmed the route; null from a router that does not say. */
  appliedAt: string | null;
}

/**
 * Each analysed group's exposition totals for `queries`: every routed instance's `/metrics`,
 * summed. A group none of whose instances can be read (or that has none) is null, with why.
 */
async function exposedTotals(
  route: RouteSeen | null,
  queries: Parameters<typeof expositionTotals>[1],
): Promise<Pick<EmbeddedCursor, 'exposed' | 'unexposed'>> {
  const exposed: NonNullable<EmbeddedCursor['exposed']> = {};
  const unexposed: NonNullable<EmbeddedCursor['unexposed']> = {};
  await Promise.all(
    GROUPS.map(async (group) => {
      const addresses = route?.addresses[group] ?? [];
      if (addresses.length === 0) {
        exposed[group] = null;
        unexposed[group] = route ? 'no instance is routed' : 'the route could not be read';
        return;
      }
      try {
        const totals = await Promise.all(
          addresses.map(async (address) => {
            const response = await fetch(`http://${address}/metrics`, {
              signal: AbortSignal.timeout(2_000),
            });
            if (!response.ok) throw new Error(`${address}/metrics answered ${response.status}`);
            return expositionTotals(parseExposition(await response.text()), queries);
          }),
        );
        exposed[group] = addTotals(totals);
      } catch (error) {
        exposed[group] = null;
        unexposed[group] = `cannot read the exposition: ${(error as Error).message}`;
      }
    }),
  );
  return { exposed, unexposed };
}

/** When the fleet that runs a service's instances began its current life. */
export interface FleetClock {
  /** Rejects when the fleet cannot be asked. */
  startedAt(service: string): Promise<string>;
}

/** The orchestrator runs the fleet: `GET /fleet/instances` says when it started. */
export class OrchestratorFleetClock implements FleetClock {
  constructor(private readonly orchestratorUrl: string) {}

  async startedAt(service: string): Promise<string> {
    const url = `${this.orchestratorUrl}/fleet/instances?service=${encodeURIComponent(service)}`;
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const body = (await response.json()) as { fleetStartedAt?: unknown };
    if (typeof body.fleetStartedAt !== 'string' || Number.isNaN(Date.parse(body.fleetStartedAt)))
      throw new Error(`${url} did not say when the fleet started`);
    return body.fleetStartedAt;
  }
}

function snapshot(
  stats: RouterStats,
  instances: Record<string, string[]> | null,
  at: number,
): EmbeddedCursor {
  const groups: Record<string, CounterSnapshot> = {};
  for (const group of GROUPS) {
    const g = stats.groups[group];
    groups[group] = {
      requests: g?.requests ?? 0,
      errors: g?.errors ?? 0,
      counts: g?.latency?.counts ?? emptyGroup().latencyCounts,
      sumMs: g?.latency?.sumMs ?? 0,
    };
  }
  return { at, epoch: stats.epoch ?? null, instances, groups };
}

const RESTARTED = 'the data plane restarted and its counters began again';

/**
 * Why `after` is in another measurement epoch than `before`, or null when the counters between
 * them measure one stretch of the same instances: a new counter epoch, counters that went
 * backwards (a router that reports no epoch), or other canary or baseline instances in the route.
 */
export function epochChange(before: EmbeddedCursor, after: EmbeddedCursor): string | null {
  if (before.epoch !== null && after.epoch !== null && before.epoch !== after.epoch)
    return RESTARTED;
  const backwards = GROUPS.some((group) => {
    const a = after.groups[group]!;
    const b = before.groups[group]!;
    return (
      a.requests < b.requests ||
      a.errors < b.errors ||
      a.counts.some((count, i) => count < (b.counts[i] ?? 0))
    );
  });
  if (backwards) return RESTARTED;
  const replaced = GROUPS.filter(
    (group) =>
      before.instances !== null &&
      after.instances !== null &&
      (before.instances[group] ?? []).join() !== (after.instances[group] ?? []).join(),
  );
  return replaced.length > 0 ? `the ${replaced.join(' and ')} instances were replaced` : null;
}

/** Counters `after` minus `before`, two snapshots of one epoch (see {@link epochChange}). */
export function difference(before: EmbeddedCursor, after: EmbeddedCursor): WindowSignals {
  const elapsedMs = Math.max(1, after.at - before.at);
  const side = (group: string): GroupSignals => {
    const a = after.groups[group]!;
    const b = before.groups[group]!;
    const counts = a.counts.map((count, i) => count - (b.counts[i] ?? 0));
    const replicas = after.instances?.[group]?.length ?? 0;
    // A data plane without latency (HAProxy's counters) cannot say how long requests were busy.
    const timed = counts.some((c) => c > 0);
    const saturation =
      replicas > 0 && timed ? Math.max(0, a.sumMs - b.sumMs) / elapsedMs / replicas : null;
    return {
      requests: a.requests - b.requests,
      errors: a.errors - b.errors,
      latencyCounts: counts,
      saturation,
    };
  };
  return { canary: side('canary'), baseline: side('baseline') };
}
