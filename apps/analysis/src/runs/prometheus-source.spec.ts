import {
  PrometheusSource,
  promQueries,
  renderedQueries,
  singleValue,
  type PromSeries,
} from './prometheus-source';

const series = (metric: Record<string, string>, value: number) => ({
  metric,
  values: [[1_700_000_010, String(value)]],
});

/** Prometheus' answers by query, as /api/v1/query_range returns them. */
function answer(query: string) {
  if (query.includes('_bucket'))
    return [
      // Cumulative: 90 requests ≤ 10 ms, 99 ≤ 50 ms, 100 in all.
      series({ group: 'canary', le: '0.01' }, 90),
      series({ group: 'canary', le: '0.05' }, 99),
      series({ group: 'canary', le: '+Inf' }, 100),
    ];
  if (query.includes('status=~"5.."')) return [series({ group: 'canary' }, 2.4)];
  if (query.includes('in_flight')) return [series({ group: 'baseline' }, 0.25)];
  return [series({ group: 'canary' }, 99.6), series({ group: 'baseline' }, 101.2)];
}

describe('Prometheus source (answers stubbed)', () => {
  afterEach(() => jest.restoreAllMocks());

  it('writes one PromQL query per signal, by group, over the interval', () => {
    const queries = promQueries('check"out', 10);
    expect(queries.requests).toBe(
      'sum by (group) (increase(sample_requests_total{service="check\\"out",group=~"canary|baseline"}[10s]))',
    );
    expect(queries.latencyBuckets).toContain('sum by (group, le) (increase(');
    expect(queries.saturation).toContain('avg_over_time(sample_in_flight_requests');
  });

  it('turns the answers into whole counts and per-bucket latency counts', async () => {
    const asked: URL[] = [];
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const url = new URL(String(input));
      asked.push(url);
      const result = answer(url.searchParams.get('query')!);
      return new Response(
        JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }),
      );
    });
    const source = new PrometheusSource('http://prometheus:9090');
    const reading = await source.readSince('checkout', JSON.stringify({ at: Date.now() - 10_400 }));
    expect(asked[0]!.pathname).toBe('/api/v1/query_range');
    expect(asked[0]!.searchParams.get('step')).toBe('10s');
    const { canary, baseline } = reading.signals!;
    expect(canary).toMatchObject({ requests: 100, errors: 2, saturation: null });
    // Standard buckets: (5, 10] ms holds 90 and (25, 50] ms 9; Prometheus only knows the last
    // request is above 50 ms, so it lands in the overflow bucket.
    expect(canary.latencyCounts[3]).toBe(90);
    expect(canary.latencyCounts[5]).toBe(9);
    expect(canary.latencyCounts[canary.latencyCounts.length - 1]).toBe(1);
    expect(baseline).toMatchObject({ requests: 101, errors: 0, saturation: 0.25 });
  });

  it('rejects when Prometheus answers with an error', async () => {
    jest
      .spyOn(globalThis, 'fetch')
      .mockImplementation(
        async () =>
          new Response(JSON.stringify({ status: 'error', error: 'parse error' }), { status: 400 }),
      );
    await expect(
      new PrometheusSource('http://prometheus:9090').readSince('checkout', '{"at":0}'),
    ).rejects.toThrow('Prometheus answered 400: parse error');
  });
});

describe("Prometheus source: the canary config's own queries", () => {
  afterEach(() => jest.restoreAllMocks());

  const metrics = [
    {
      name: 'checkouts',
      query: {
        prometheus:
          'sum(rate(checkout_completed_total{service="${service}",group="${group}",version="${version}"}[${interval}]))',
      },
      direction: 'decrease' as const,
    },
    { name: 'errors', query: { embedded: 'error-rate' as const }, direction: 'increase' as const },
  ];

  it('renders each template per group with the service, version and interval', () => {
    expect(renderedQueries(metrics, 'shop', 9.6, { canary: 'v2', baseline: 'v1' })).toEqual([
      {
        name: 'checkouts',
        group: 'canary',
        promql:
          'sum(rate(checkout_completed_total{service="shop",group="canary",version="v2"}[10s]))',
      },
      {
        name: 'checkouts',
        group: 'baseline',
        promql:
          'sum(rate(checkout_completed_total{service="shop",group="baseline",version="v1"}[10s]))',
      },
    ]);
  });

  it('takes one series as the value; nothing, several series or NaN are no data', () => {
    expect(singleValue([series({}, 4.5) as PromSeries])).toEqual({ value: 4.5 });
    expect(singleValue([])).toEqual({ value: null, problem: 'the query returned nothing' });
    expect(singleValue([series({ a: '1' }, 1), series({ a: '2' }, 2)] as PromSeries[])).toEqual({
      value: null,
      problem: 'the query returned 2 series; aggregate them to one (e.g. sum)',
    });
    expect(singleValue([series({}, NaN) as PromSeries]).value).toBeNull();
  });

  it('runs the queries per group, with the versions Prometheus knows, and reports empty answers', async () => {
    const asked: string[] = [];
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      const query = new URL(String(input)).searchParams.get('query')!;
      asked.push(query);
      const result = query.startsWith('count by (group, version)')
        ? [
            series({ group: 'canary', version: 'v2' }, 3),
            series({ group: 'baseline', version: 'v1' }, 3),
          ]
        : query.includes('checkout_completed_total')
          ? query.includes('group="canary"')
            ? []
            : [series({}, 6.2)]
          : answer(query);
      return new Response(
        JSON.stringify({ status: 'success', data: { resultType: 'matrix', result } }),
      );
    });
    const source = new PrometheusSource('http://prometheus:9090');
    const reading = await source.readSince(
      'shop',
      JSON.stringify({ at: Date.now() - 10_400 }),
      metrics,
    );
    expect(asked).toContain(
      'sum(rate(checkout_completed_total{service="shop",group="baseline",version="v1"}[10s]))',
    );
    expect(reading.signals!.custom).toEqual({
      checkouts: { canary: null, baseline: 6.2, problem: 'canary: the query returned nothing' },
    });
  });
});
