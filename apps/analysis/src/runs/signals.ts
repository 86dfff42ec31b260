import { LATENCY_BUCKET_BOUNDS_MS } from '@rollgate/data-planes';

/**
 * The golden signals of one version group over one interval, as every metric source reports them:
 * traffic and errors as counts, latency as a histogram on the standard bounds (so p50 and p99 and
 * per-request samples come out the same whichever source measured them), saturation as one number.
 */
export interface GroupSignals {
  requests: number;
  /** Responses with status 5xx. */
  errors: number;
  /** Non-cumulative counts per bucket of {@link LATENCY_BOUNDS_MS}, plus one overflow bucket. */
  latencyCounts: number[];
  /**
   * Mean requests in flight per instance over the interval (Little's law: busy time ÷ wall time),
   * or null when the source does not report it. A build that queues more is closer to its limit.
   */
  saturation: number | null;
}

export interface WindowSignals {
  canary: GroupSignals;
  baseline: GroupSignals;
  /**
   * The canary config's own metrics the source read this interval (its PromQL, or the instances'
   * exposition), by metric name; absent when the source ran none.
   */
  custom?: Record<string, MetricReading>;
}

/** One config metric's value per group over one interval; null: the query returned nothing. */
export interface MetricReading {
  canary: number | null;
  baseline: number | null;
  /** Why a value is missing, for the reasons a person reads. */
  problem?: string;
}

export const GROUPS = ['canary', 'baseline'] as const;
export type AnalysedGroup = (typeof GROUPS)[number];

/** Upper bounds (ms, inclusive) of the latency buckets: the embedded proxy's, shared by all sources. */
export const LATENCY_BOUNDS_MS: readonly number[] = LATENCY_BUCKET_BOUNDS_MS;

export const emptyGroup = (): GroupSignals => ({
  requests: 0,
  errors: 0,
  latencyCounts: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0),
  saturation: null,
});

/** Index of the standard bucket that holds a latency of `ms` (an upper bound of another histogram). */
export function bucketOf(ms: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound * (1 + 1e-9));
  return index === -1 ? LATENCY_BOUNDS_MS.length : index;
}

/**
 * A quantile of a bucketed histogram by linear interpolation inside the bucket, as PromQL's
 * histogram_quantile does; the overflow bucket answers with the highest bound. Null when empty.
 */
export function histogramQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (count > 0 && below + count >= rank) {
      if (i >= LATENCY_BOUNDS_MS.length) return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
      const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!;
      const upper = LATENCY_BOUNDS_MS[i]!;
      return lower + ((upper - lower) * (rank - below)) / count;
    }
    below += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1]!;
}

/**
 * One representative latency per bucket: the geometric middle of its bounds (half the first
 * bound for the first bucket, twice the last for the overflow). Latency is judged on a log scale,
 * where this is the bucket's centre.
 */
export function bucketRepresentative(index: number): number {
  const bounds = LATENCY_BOUNDS_MS;
  if (index === 0) return bounds[0]! / 2;
  if (index >= bounds.length) return bounds[bounds.length - 1]! * 2;
  return Math.sqrt(bounds[index - 1]! * bounds[index]!);
}

/** Per-request latency samples rebuilt from a histogram, in bucket order. */
export function latencySamples(counts: readonly number[]): number[] {
  return counts.flatMap((count, i) =>
    Array<number>(Math.max(0, Math.round(count))).fill(bucketRepresentative(i)),
  );
}

/** Error indicators (1 = failed request), errors first within the interval. */
export function errorIndicators({ requests, errors }: Pick<GroupSignals, 'requests' | 'errors'>) {
  return [
    ...Array<number>(Math.max(0, errors)).fill(1),
    ...Array<number>(Math.max(0, requests - errors)).fill(0),
  ];
}

export const sumOf = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0);

/** A one-line description of a group's interval, for reasons a person reads. */
export function describeGroup(name: string, group: GroupSignals): string {
  const rate = group.requests > 0 ? `${round((100 * group.errors) / group.requests)}% errors` : '';
  const p50 = histogramQuantile(group.latencyCounts, 0.5);
  const p99 = histogramQuantile(group.latencyCounts, 0.99);
  const latency = p50 === null ? '' : `p50 ${round(p50)} ms, p99 ${round(p99!)} ms`;
  const saturation =
    group.saturation === null ? '' : `${round(group.saturation)} in flight per instance`;
  const parts = [`${group.requests} requests`, rate, latency, saturation].filter(Boolean);
  return `${name}: ${parts.join(', ')}`;
}

export function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Number(value.toPrecision(3));
}
