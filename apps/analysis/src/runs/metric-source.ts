/** Cumulative request and error counts of the canary and baseline groups of a service. */
export interface GroupCounters {
  canary: { requests: number; errors: number };
  baseline: { requests: number; errors: number };
}

/** Where an analysis reads the golden signals. */
export interface MetricSource {
  readonly kind: string;
  /** Cumulative counters now; rejects when the source cannot answer (that interval is NODATA). */
  counters(service: string): Promise<GroupCounters>;
}

interface RouterStats {
  groups: Record<string, { requests: number; errors: number }>;
}

/** The router's embedded-proxy statistics, over HTTP (GET /routes/:service/stats). */
export class RouterStatsSource implements MetricSource {
  readonly kind = 'router-stats';

  constructor(private readonly routerUrl: string) {}

  async counters(service: string): Promise<GroupCounters> {
    const response = await fetch(`${this.routerUrl}/routes/${encodeURIComponent(service)}/stats`, {
      signal: AbortSignal.timeout(2_000),
    });
    if (!response.ok)
      throw new Error(`router answered ${response.status} for ${service} statistics`);
    const stats = (await response.json()) as RouterStats;
    const group = (name: string) => ({
      requests: stats.groups[name]?.requests ?? 0,
      errors: stats.groups[name]?.errors ?? 0,
    });
    return { canary: group('canary'), baseline: group('baseline') };
  }
}

/** Counter differences; clamped at 0 unless `signed` (a rebased start may lie below zero). */
export function minus(after: GroupCounters, before: GroupCounters, signed = false): GroupCounters {
  const floor = (n: number) => (signed ? n : Math.max(0, n));
  const side = (a: GroupCounters['canary'], b: GroupCounters['canary']) => ({
    requests: floor(a.requests - b.requests),
    errors: floor(a.errors - b.errors),
  });
  return {
    canary: side(after.canary, before.canary),
    baseline: side(after.baseline, before.baseline),
  };
}

/** True when cumulative counters are below what was already counted: the source was reset. */
export function wentBackwards(sinceStart: GroupCounters, counted: GroupCounters): boolean {
  return (
    sinceStart.canary.requests < counted.canary.requests ||
    sinceStart.baseline.requests < counted.baseline.requests
  );
}
