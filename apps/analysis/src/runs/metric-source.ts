import { GROUPS, emptyGroup, type GroupSignals, type WindowSignals } from './signals';

/**
 * Where an analysis run reads the golden signals. A source hands out an opaque cursor (plain
 * JSON, stored with the run) and later answers "what happened since this cursor". Both methods
 * reject when the source cannot answer: the run counts that interval as NODATA, never as quiet.
 */
export interface MetricSource {
  readonly kind: string;
  /** A cursor for "now": the start of a run. */
  mark(service: string): Promise<string>;
  /**
   * Canary and baseline signals from `cursor` until now, and the cursor to continue from.
   * `signals` is null when the source answered but the interval cannot be trusted (e.g. its
   * counters restarted); `problem` then says why.
   */
  readSince(service: string, cursor: string): Promise<SourceReading>;
}

export interface SourceReading {
  signals: WindowSignals | null;
  cursor: string;
  problem?: string;
}

/** What the router's embedded proxy reports per group (GET /routes/:service/stats). */
interface RouterGroupStats {
  requests: number;
  errors: number;
  latency?: { boundsMs: number[]; counts: number[]; sumMs: number };
}

interface RouterStats {
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
  groups: Record<string, CounterSnapshot>;
}

/**
 * The embedded proxy's per-group counters and latency histograms, from the router over HTTP.
 * The proxy counts since it started, so a cursor is a snapshot of the counters and an interval is
 * the difference. Saturation is the time the group's requests spent in flight (the histogram's
 * latency sum) divided by the interval and by the group's instances in the route.
 */
export class RouterStatsSource implements MetricSource {
  readonly kind = 'embedded';

  constructor(private readonly routerUrl: string) {}

  async mark(service: string): Promise<string> {
    const stats = await this.stats(service);
    return JSON.stringify(snapshot(stats, Date.now()));
  }

  async readSince(service: string, cursor: string): Promise<SourceReading> {
    const before = JSON.parse(cursor) as EmbeddedCursor;
    const [stats, instances] = await Promise.all([this.stats(service), this.instances(service)]);
    const now = snapshot(stats, Date.now());
    const next = JSON.stringify(now);
    const signals = difference(before, now, instances);
    if (!signals) {
      return {
        signals: null,
        cursor: next,
        problem: 'the data plane restarted and its counters began again',
      };
    }
    return { signals, cursor: next };
  }

  private async stats(service: string): Promise<RouterStats> {
    const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}/stats`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok)
      throw new Error(`router answered ${response.status} for ${service} statistics`);
    return (await response.json()) as RouterStats;
  }

  /** Instances per group in the confirmed route; empty when the route cannot be read. */
  private async instances(service: string): Promise<Record<string, number>> {
    try {
      const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (!response.ok) return {};
      const route = (await response.json()) as { backends?: Record<string, unknown[]> };
      return Object.fromEntries(
        Object.entries(route.backends ?? {}).map(([group, list]) => [group, list.length]),
      );
    } catch {
      return {};
    }
  }
}

function snapshot(stats: RouterStats, at: number): EmbeddedCursor {
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
  return { at, groups };
}

/** Counters `after` minus `before`; null when any went backwards (the proxy restarted). */
export function difference(
  before: EmbeddedCursor,
  after: EmbeddedCursor,
  instances: Record<string, number>,
): WindowSignals | null {
  const elapsedMs = Math.max(1, after.at - before.at);
  const side = (group: string): GroupSignals | null => {
    const a = after.groups[group]!;
    const b = before.groups[group] ?? { requests: 0, errors: 0, counts: [], sumMs: 0 };
    const counts = a.counts.map((count, i) => count - (b.counts[i] ?? 0));
    const requests = a.requests - b.requests;
    const errors = a.errors - b.errors;
    if (requests < 0 || errors < 0 || counts.some((c) => c < 0)) return null;
    const replicas = instances[group] ?? 0;
    // A data plane without latency (HAProxy's counters) cannot say how long requests were busy.
    const timed = counts.some((c) => c > 0);
    const saturation =
      replicas > 0 && timed ? Math.max(0, a.sumMs - b.sumMs) / elapsedMs / replicas : null;
    return { requests, errors, latencyCounts: counts, saturation };
  };
  const canary = side('canary');
  const baseline = side('baseline');
  return canary && baseline ? { canary, baseline } : null;
}
