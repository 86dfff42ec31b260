import type {
  CanaryConfig,
  CanaryMetric,
  ExpositionQuery,
  MeasuredValues,
} from '../canary-configs/canary-config';
import { GROUPS, type AnalysedGroup, type MetricReading, type WindowSignals } from './signals';

/**
 * A canary config's own metrics, as the metric sources run them: PromQL templates for the
 * Prometheus source, and for the embedded source the counters and histograms each instance
 * exposes at `/metrics` (Prometheus text format), summed over the instances of a group.
 */

/** The config metrics with a PromQL template: the Prometheus source runs each, per group. */
export function prometheusQueries(
  metrics: readonly CanaryMetric[],
): { name: string; template: string }[] {
  return metrics.flatMap((m) =>
    m.query.prometheus === undefined ? [] : [{ name: m.name, template: m.query.prometheus }],
  );
}

/** The config metrics the embedded source reads from the instances' exposition. */
export function expositionQueries(
  metrics: readonly CanaryMetric[],
): { name: string; query: ExpositionQuery }[] {
  return metrics.flatMap((m) =>
    typeof m.query.embedded === 'object' ? [{ name: m.name, query: m.query.embedded }] : [],
  );
}

export const metricsOf = (config: CanaryConfig | null | undefined): readonly CanaryMetric[] =>
  config?.metrics ?? [];

/**
 * What the config's own queries read over every interval so far, by metric: the values each
 * group had (an interval whose query returned nothing adds none). A metric the source ran gets an
 * entry even when it never had a value, so the judge sees it and says NODATA.
 */
export function measuredValues(
  intervals: readonly WindowSignals[],
): Record<string, MeasuredValues> {
  const measured: Record<string, MeasuredValues> = {};
  for (const interval of intervals)
    for (const [name, reading] of Object.entries(interval.custom ?? {})) {
      const values = (measured[name] ??= { canary: [], baseline: [] });
      for (const group of GROUPS) {
        const value = reading[group];
        if (value !== null && Number.isFinite(value)) values[group] = [...values[group], value];
      }
    }
  return measured;
}

/** The first problem of this interval's own metrics, e.g. a query that returned nothing. */
export function customProblems(signals: WindowSignals | null): string[] {
  return Object.entries(signals?.custom ?? {}).flatMap(([name, reading]) =>
    reading.problem ? [`${name}: ${reading.problem}`] : [],
  );
}

/** One sample of an exposition: `name{labels} value`. */
export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of a Prometheus text exposition (comments and malformed lines are skipped). */
export function parseExposition(text: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL))
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = Number(match[3] === '+Inf' ? Infinity : match[3]);
    if (!Number.isNaN(value)) samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Totals the queries need, keyed `name` (counters) or `name_bucket{le}` (histogram buckets). */
export type ExposedTotals = Record<string, number>;

const bucketKey = (histogram: string, le: string) => `${histogram}_bucket{le="${le}"}`;

/** The sample names a query reads. */
function namesOf(query: ExpositionQuery): string[] {
  if ('counter' in query) return [query.counter];
  if ('histogram' in query) return [`${query.histogram}_bucket`];
  return [query.ratio.numerator, query.ratio.denominator];
}

/** One instance's (or a group's) totals for the queries: every series of a name summed. */
export function expositionTotals(
  samples: readonly ExposedSample[],
  queries: readonly ExpositionQuery[],
): ExposedTotals {
  const wanted = new Set(queries.flatMap(namesOf));
  const totals: ExposedTotals = {};
  for (const sample of samples) {
    if (!wanted.has(sample.name)) continue;
    const key =
      sample.name.endsWith('_bucket') && sample.labels['le'] !== undefined
        ? bucketKey(sample.name.slice(0, -'_bucket'.length), sample.labels['le'])
        : sample.name;
    totals[key] = (totals[key] ?? 0) + sample.value;
  }
  return totals;
}

/** The sum of several instances' totals. */
export function addTotals(all: readonly ExposedTotals[]): ExposedTotals {
  const sum: ExposedTotals = {};
  for (const totals of all)
    for (const [key, value] of Object.entries(totals)) sum[key] = (sum[key] ?? 0) + value;
  return sum;
}

type Value = { value: number | null; problem?: string };

/**
 * One query's value over an interval of `seconds` from a group's totals before and after it: a
 * counter's increase per second, a histogram quantile (interpolated inside its bucket, as
 * PromQL's histogram_quantile), or the ratio of two counters' increases.
 */
export function expositionValue(
  query: ExpositionQuery,
  before: ExposedTotals,
  after: ExposedTotals,
  seconds: number,
): Value {
  const increase = (name: string): number | null => {
    if (!(name in after)) return null;
    return after[name]! - (before[name] ?? 0);
  };
  if ('counter' in query) {
    const delta = increase(query.counter);
    if (delta === null) return { value: null, problem: `${query.counter} is not exposed` };
    if (delta < 0) return { value: null, problem: `${query.counter} went backwards` };
    return { value: delta / Math.max(seconds, 1e-3) };
  }
  if ('ratio' in query) {
    const numerator = increase(query.ratio.numerator) ?? 0;
    const denominator = increase(query.ratio.denominator);
    if (!denominator || denominator <= 0)
      return { value: null, problem: `${query.ratio.denominator} did not increase` };
    return { value: Math.max(0, numerator) / denominator };
  }
  return histogramValue(query.histogram, query.quantile, before, after);
}

function histogramValue(
  histogram: string,
  quantile: number,
  before: ExposedTotals,
  after: ExposedTotals,
): Value {
  const prefix = `${histogram}_bucket{le="`;
  const buckets = Object.keys(after)
    .filter((key) => key.startsWith(prefix))
    .map((key) => {
      const le = key.slice(prefix.length, -2);
      return { le: le === '+Inf' ? Infinity : Number(le), count: after[key]! - (before[key] ?? 0) };
    })
    .sort((a, b) => a.le - b.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (buckets.length === 0) return { value: null, problem: `${histogram} is not exposed` };
  if (total <= 0) return { value: null, problem: `${histogram} observed nothing` };
  const rank = quantile * total;
  let lower = 0;
  let below = 0;
  for (const { le, count } of buckets) {
    if (count >= rank) {
      if (le === Infinity) return { value: lower };
      const inBucket = count - below;
      return { value: inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le };
    }
    lower = le;
    below = count;
  }
  return { value: lower };
}

/** Each exposition query's reading for both groups, from the totals before and after. */
export function expositionReadings(
  queries: readonly { name: string; query: ExpositionQuery }[],
  before: Partial<Record<AnalysedGroup, ExposedTotals | null>>,
  after: Partial<Record<AnalysedGroup, ExposedTotals | null>>,
  seconds: number,
  unread: Partial<Record<AnalysedGroup, string>> = {},
): Record<string, MetricReading> {
  const readings: Record<string, MetricReading> = {};
  for (const { name, query } of queries) {
    const reading: MetricReading = { canary: null, baseline: null };
    const problems: string[] = [];
    for (const group of GROUPS) {
      const b = before[group];
      const a = after[group];
      if (!a || !b) {
        problems.push(`${group}: ${unread[group] ?? 'the exposition could not be read'}`);
        continue;
      }
      const { value, problem } = expositionValue(query, b, a, seconds);
      reading[group] = value;
      if (problem) problems.push(`${group}: ${problem}`);
    }
    if (problems.length > 0) reading.problem = `no data (${problems.join('; ')})`;
    readings[name] = reading;
  }
  return readings;
}
