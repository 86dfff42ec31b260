import { createHash } from 'node:crypto';
import { BackendInstance, RouteTable, VERSION_GROUPS, VersionGroup } from '../port';
import { fullWeights } from '../route-table';

/** Sticky values hash into this many buckets; a weight of 1% owns 100 of them. */
export const STICKY_BUCKETS = 10_000;

// Canary first, then baseline: when the canary's share grows, users already in it stay in it.
const STICKY_ORDER: readonly VersionGroup[] = ['canary', 'baseline', 'green', 'blue', 'stable'];

/** The stable bucket of a sticky header value: same value, same bucket, in every process. */
export function stickyBucket(value: string): number {
  return createHash('sha256').update(value).digest().readUInt32BE(0) % STICKY_BUCKETS;
}

/** The group that owns `bucket` under `weights` (groups take consecutive bucket ranges). */
export function groupForBucket(
  bucket: number,
  weights: Record<VersionGroup, number>,
): VersionGroup {
  let upper = 0;
  for (const group of STICKY_ORDER) {
    upper += (weights[group] * STICKY_BUCKETS) / 100;
    if (bucket < upper) return group;
  }
  throw new Error(`bucket ${bucket} is outside weights that sum to ${upper / 100}`);
}

/**
 * Smooth weighted round-robin (the nginx algorithm): every 100 picks hold exactly each group's
 * weight, interleaved rather than in bursts, so even a short analysis window sees the right share.
 */
export class SmoothWeightedRoundRobin {
  private readonly entries: Array<{ group: VersionGroup; weight: number; current: number }>;
  private readonly total: number;

  constructor(weights: Record<VersionGroup, number>) {
    this.entries = VERSION_GROUPS.filter((group) => weights[group] > 0).map((group) => ({
      group,
      weight: weights[group],
      current: 0,
    }));
    this.total = this.entries.reduce((sum, entry) => sum + entry.weight, 0);
  }

  next(): VersionGroup {
    let best = this.entries[0];
    for (const entry of this.entries) {
      entry.current += entry.weight;
      if (entry.current > best.current) best = entry;
    }
    best.current -= this.total;
    return best.group;
  }
}

/**
 * One route table ready to serve: picks the group of a request, then the next instance of that
 * group in turn. The proxy swaps whole instances of this class, so a request never mixes tables.
 */
export class ActiveRoute {
  private readonly weights: Record<VersionGroup, number>;
  private readonly spread: SmoothWeightedRoundRobin;
  private readonly nextInstance = new Map<VersionGroup, number>();

  constructor(readonly table: RouteTable) {
    this.weights = fullWeights(table.weights);
    this.spread = new SmoothWeightedRoundRobin(this.weights);
  }

  chooseGroup(stickyValue: string | undefined): VersionGroup {
    return stickyValue === undefined
      ? this.spread.next()
      : groupForBucket(stickyBucket(stickyValue), this.weights);
  }

  chooseInstance(group: VersionGroup): BackendInstance {
    const instances = this.table.backends[group] ?? [];
    const index = this.nextInstance.get(group) ?? 0;
    this.nextInstance.set(group, (index + 1) % instances.length);
    return instances[index % instances.length];
  }
}
