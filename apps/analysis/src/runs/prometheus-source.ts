import { renderQuery, type CanaryMetric } from '../canary-configs/canary-config';
import { prometheusQueries } from './custom-metrics';
import type { MetricSource, SourceReading } from './metric-source';
import {
  GROUPS,
  bucketOf,
  emptyGroup,
  type AnalysedGroup,
  type MetricReading,
  type WindowSignals,
} from './signals';

/**
 * Metric names a service exposes for the Prometheus source (the sample service does, with
 * prom-client). Every series carries the labels `service`, `version` and `group` (canary,
 * baseline, stable: the instance's role in the release).
 */
export const PROMETHEUS_METRICS = {
  requests: 'sample_requests_total',
  duration: 'sample_request_duration_seconds',
  inFlight: 'sample_in_flight_requests',
} as const;

/** The PromQL of each signal for one service over a window of `seconds`, by group. */
export function promQueries(service: string, seconds: number) {
  const selector = (extra = '') =>
    `{service="${escapeLabel(service)}",group=~"${GROUPS.join('|')}"${extra}}`;
  const window = `[${Math.max(1, Math.round(seconds))}s]`;
  const { requests, duration, inFlight } = PROMETHEUS_METRICS;
  return {
    requests: `sum by (group) (increase(${requests}${selector()}${window}))`,
    errors: `sum by (group) (increase(${requests}${selector(',status=~"5.."')}${window}))`,
    latencyBuckets: `sum by (group, le) (increase(${duration}_bucket${selector()}${window}))`,
    saturation: `avg by (group) (avg_over_time(${inFlight}${selector()}${window}))`,
  };
}

/**
 * Each config metric's PromQL per group: placeholders rendered with the service, the group, the
 * version that group runs (empty when Prometheus does not know it) and the interval (`30s`).
 */
export function renderedQueries(
  metrics: readonly CanaryMetric[],
  service: string,
  seconds: number,
  versions: Partial<Record<AnalysedGroup, string>>,
): { name: string; group: AnalysedGroup; promql: string }[] {
  return prometheusQueries(metrics).flatMap(({ name, template }) =>
    GROUPS.map((group) => ({
      name,
      group,
      promql: renderQuery(template, {
        service,
        group,
        version: versions[group] ?? '',
        interval: `${Math.max(1, Math.round(seconds))}s`,
      }),
    })),
  );
}

/**
 * One query's answer as one number: exactly one series with a finite value. Nothing (no series)
 * is no data, as are several series (the query must aggregate) and NaN.
 */
export function singleValue(series: readonly PromSeries[]): {
  value: number | null;
  problem?: string;
} {
  if (series.length === 0) return { value: null, problem: 'the query returned nothing' };
  if (series.length > 1)
    return {
      value: null,
      problem: `the query returned ${series.length} series; aggregate them to one (e.g. sum)`,
    };
  const value = lastValue(series[0]!);
  if (!Number.isFinite(value)) return { value: null, problem: `the query returned ${value}` };
  return { value };
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

export interface PromSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: PromSeries[] };
}

interface PromCursor {
  at: number;
}

/**
 * Reads the golden signals from Prometheus with `query_range` over HTTP: one evaluation per
 * interval, at its end, over a range as long as the interval. Counters go through `increase`,
 * which copes with instance restarts; the counts are rounded to whole requests. A canary config's
 * metrics with a PromQL template are run the same way, once per group (see renderedQueries).
 */
export class PrometheusSource implements MetricSource {
  readonly kind = 'prometheus';

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 3_000,
  ) {}

  async mark(): Promise<string> {
    // Prometheus keeps the history: a cursor is a point in time. Ask once so an unreachable
    // server is noticed at the start of the run.
    await this.query('vector(1)', Date.now() / 1000, 1);
    return JSON.stringify({ at: Date.now() } satisfies PromCursor);
  }

  async readSince(
    service: string,
    cursor: string,
    metrics: readonly CanaryMetric[] = [],
    requestsQuery?: string,
  ): Promise<SourceReading> {
    const { at } = JSON.parse(cursor) as PromCursor;
    const now = Date.now();
    const seconds = Math.max(1, Math.floor((now - at) / 1000));
    const end = (at + seconds * 1000) / 1000;
    const queries = promQueries(service, seconds);
    const [requests, errors, buckets, saturation] = await Promise.all([
      requestsQuery === undefined
        ? this.query(queries.requests, end, seconds)
        : this.requestsByGroup(requestsQuery, service, end, seconds),
      this.query(queries.errors, end, seconds),
      this.query(queries.latencyBuckets, end, seconds),
      this.query(queries.saturation, end, seconds),
    ]);
    const signals: WindowSignals = { canary: emptyGroup(), baseline: emptyGroup() };
    const groupOf = (series: PromSeries) => {
      const group = series.metric['group'];
      return group === 'canary' || group === 'baseline' ? signals[group] : undefined;
    };
    for (const series of requests) {
      const group = groupOf(series);
      if (group) group.requests = Math.round(lastValue(series));
    }
    for (const series of errors) {
      const group = groupOf(series);
      if (group) group.errors = Math.min(group.requests, Math.round(lastValue(series)));
    }
    addBuckets(buckets, groupOf);
    for (const series of saturation) {
      const group = groupOf(series);
      const value = lastValue(series);
      if (group && Number.isFinite(value)) group.saturation = value;
    }
    if (prometheusQueries(metrics).length > 0)
      signals.custom = await this.configMetrics(service, metrics, end, seconds);
    return { signals, cursor: JSON.stringify({ at: at + seconds * 1000 } satisfies PromCursor) };
  }

  /**
   * The config's requests template run once per group, as series labelled by group (the shape of
   * the built-in `sum by (group)` query).
   */
  private async requestsByGroup(
    template: string,
    service: string,
    end: number,
    seconds: number,
  ): Promise<PromSeries[]> {
    const interval = `${Math.max(1, Math.round(seconds))}s`;
    const answers = await Promise.all(
      GROUPS.map(async (group) => {
        const promql = renderQuery(template, { service, group, version: '', interval });
        const { value } = singleValue(await this.query(promql, end, seconds));
        return value === null
          ? []
          : [{ metric: { group }, values: [[end, String(value)]] } as PromSeries];
      }),
    );
    return answers.flat();
  }

  /** Runs each config metric's query per group at `end`; a query Prometheus refuses throws. */
  private async configMetrics(
    service: string,
    metrics: readonly CanaryMetric[],
    end: number,
    seconds: number,
  ): Promise<Record<string, MetricReading>> {
    const needsVersion = prometheusQueries(metrics).some((q) => q.template.includes('${version}'));
    const versions = needsVersion ? await this.versions(service, end, seconds) : {};
    const queries = renderedQueries(metrics, service, seconds, versions);
    const answers = await Promise.all(queries.map((q) => this.query(q.promql, end, seconds)));
    const readings: Record<string, MetricReading> = {};
    queries.forEach(({ name, group }, i) => {
      const reading = (readings[name] ??= { canary: null, baseline: null });
      const { value, problem } = singleValue(answers[i]!);
      reading[group] = value;
      if (problem)
        reading.problem = [reading.problem, `${group}: ${problem}`].filter(Boolean).join('; ');
    });
    return readings;
  }

  /** The version each group runs, from the `version` label of the service's series. */
  private async versions(
    service: string,
    end: number,
    seconds: number,
  ): Promise<Partial<Record<AnalysedGroup, string>>> {
    const promql = `count by (group, version) ({service="${escapeLabel(service)}",group=~"${GROUPS.join('|')}"})`;
    const versions: Partial<Record<AnalysedGroup, string>> = {};
    for (const series of await this.query(promql, end, seconds)) {
      const group = series.metric['group'] as AnalysedGroup;
      if (GROUPS.includes(group) && series.metric['version'])
        versions[group] = series.metric['version'];
    }
    return versions;
  }

  private async query(promql: string, end: number, stepSeconds: number): Promise<PromSeries[]> {
    const url = new URL('/api/v1/query_range', this.baseUrl);
    url.search = new URLSearchParams({
      query: promql,
      start: String(end),
      end: String(end),
      step: `${stepSeconds}s`,
    }).toString();
    const response = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    const body = (await response.json().catch(() => null)) as PromResponse | null;
    if (!response.ok || !body || body.status !== 'success' || !body.data) {
      throw new Error(
        `Prometheus answered ${response.status}${body?.error ? `: ${body.error}` : ''}`,
      );
    }
    return body.data.result;
  }
}

function lastValue(series: PromSeries): number {
  const last = series.values[series.values.length - 1];
  return last ? Number(last[1]) : NaN;
}

/**
 * Prometheus buckets are cumulative (`le`: count of requests at most this long); each `le` is
 * mapped to the standard bucket that holds it and differenced into per-bucket counts.
 */
function addBuckets(
  series: PromSeries[],
  groupOf: (s: PromSeries) => ReturnType<typeof emptyGroup> | undefined,
): void {
  const byGroup = new Map<ReturnType<typeof emptyGroup>, [number, number][]>();
  for (const s of series) {
    const group = groupOf(s);
    const value = lastValue(s);
    if (!group || !Number.isFinite(value)) continue;
    const le = s.metric['le'] === '+Inf' ? Infinity : Number(s.metric['le']) * 1000;
    byGroup.set(group, [...(byGroup.get(group) ?? []), [le, Math.round(value)]]);
  }
  for (const [group, points] of byGroup) {
    points.sort((a, b) => a[0] - b[0]);
    let below = 0;
    for (const [le, cumulative] of points) {
      const index = le === Infinity ? group.latencyCounts.length - 1 : bucketOf(le);
      const count = Math.max(0, cumulative - below);
      group.latencyCounts[index]! += count;
      below = Math.max(below, cumulative);
    }
  }
}
