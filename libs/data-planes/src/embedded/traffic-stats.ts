import { randomUUID } from 'node:crypto';
import { VERSION_GROUPS, VersionGroup } from '../port';

/**
 * Upper bounds (inclusive, milliseconds) of the latency histogram buckets. A sample of 7 ms counts
 * in the `10` bucket; one more bucket after the last bound holds everything slower than 10 s.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = [
  1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

/** Latency histogram, non-cumulative: `counts[i]` holds samples in (bounds[i-1], bounds[i]]. */
export interface LatencyHistogram {
  boundsMs: readonly number[];
  /** One more entry than `boundsMs`: the last is the overflow bucket. */
  counts: number[];
  sumMs: number;
  count: number;
}

/** Cumulative counters of one version group since the proxy started serving the service. */
export interface GroupTrafficStats {
  requests: number;
  /** Responses with status 5xx, including the proxy's own 502/504 when an instance failed. */
  errors: number;
  latency: LatencyHistogram;
}

/** A snapshot of one service's traffic per group; diff two with {@link diffTrafficStats}. */
export interface ServiceTrafficStats {
  service: string;
  /**
   * One life of these counters: another epoch means they began again from zero (the data plane
   * restarted), so a difference across two epochs measures nothing.
   */
  epoch: string;
  groups: Record<VersionGroup, GroupTrafficStats>;
}

/** Index of the histogram bucket for a latency. */
export function bucketIndex(latencyMs: number): number {
  const index = LATENCY_BUCKET_BOUNDS_MS.findIndex((bound) => latencyMs <= bound);
  return index === -1 ? LATENCY_BUCKET_BOUNDS_MS.length : index;
}

class GroupRecorder {
  requests = 0;
  errors = 0;
  sumMs = 0;
  readonly counts = new Array<number>(LATENCY_BUCKET_BOUNDS_MS.length + 1).fill(0);

  record(latencyMs: number, isError: boolean): void {
    this.requests += 1;
    if (isError) this.errors += 1;
    this.sumMs += latencyMs;
    this.counts[bucketIndex(latencyMs)] += 1;
  }

  snapshot(): GroupTrafficStats {
    return {
      requests: this.requests,
      errors: this.errors,
      latency: {
        boundsMs: LATENCY_BUCKET_BOUNDS_MS,
        counts: [...this.counts],
        sumMs: this.sumMs,
        count: this.requests,
      },
    };
  }
}

/** Counts one service's requests, errors and latencies per version group. */
export class TrafficRecorder {
  readonly epoch = randomUUID();
  private readonly groups: Record<VersionGroup, GroupRecorder>;

  constructor(readonly service: string) {
    this.groups = Object.fromEntries(
      VERSION_GROUPS.map((group) => [group, new GroupRecorder()]),
    ) as Record<VersionGroup, GroupRecorder>;
  }

  record(group: VersionGroup, latencyMs: number, status: number): void {
    this.groups[group].record(latencyMs, status >= 500);
  }

  snapshot(): ServiceTrafficStats {
    const groups = Object.fromEntries(
      VERSION_GROUPS.map((group) => [group, this.groups[group].snapshot()]),
    ) as Record<VersionGroup, GroupTrafficStats>;
    return { service: this.service, epoch: this.epoch, groups };
  }
}

/** Traffic between two snapshots of one service (`later` minus `earlier`). */
export function diffTrafficStats(
  earlier: ServiceTrafficStats,
  later: ServiceTrafficStats,
): ServiceTrafficStats {
  if (earlier.epoch !== later.epoch) {
    throw new Error(`traffic of ${later.service}: the counters restarted between the snapshots`);
  }
  const groups = Object.fromEntries(
    VERSION_GROUPS.map((group) => [group, diffGroup(earlier.groups[group], later.groups[group])]),
  ) as Record<VersionGroup, GroupTrafficStats>;
  return { service: later.service, epoch: later.epoch, groups };
}

function diffGroup(earlier: GroupTrafficStats, later: GroupTrafficStats): GroupTrafficStats {
  return {
    requests: later.requests - earlier.requests,
    errors: later.errors - earlier.errors,
    latency: {
      boundsMs: later.latency.boundsMs,
      counts: later.latency.counts.map((count, i) => count - earlier.latency.counts[i]),
      sumMs: later.latency.sumMs - earlier.latency.sumMs,
      count: later.latency.count - earlier.latency.count,
    },
  };
}
