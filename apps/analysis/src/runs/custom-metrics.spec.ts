import {
  addTotals,
  expositionReadings,
  expositionTotals,
  expositionValue,
  measuredValues,
  parseExposition,
} from './custom-metrics';
import { emptyGroup } from './signals';

const EXPOSITION = `# HELP checkout_completed_total Checkouts completed
# TYPE checkout_completed_total counter
checkout_completed_total{service="shop",version="v1",group="canary"} 12
# TYPE http_server_requests_seconds histogram
http_server_requests_seconds_bucket{le="0.01",method="GET",status="200",group="canary"} 80
http_server_requests_seconds_bucket{le="0.05",method="GET",status="200",group="canary"} 95
http_server_requests_seconds_bucket{le="+Inf",method="GET",status="200",group="canary"} 100
http_server_requests_seconds_bucket{le="0.01",method="GET",status="500",group="canary"} 0
http_server_requests_seconds_bucket{le="0.05",method="GET",status="500",group="canary"} 5
http_server_requests_seconds_bucket{le="+Inf",method="GET",status="500",group="canary"} 10
http_server_requests_seconds_count{method="GET",status="200",group="canary"} 100
http_server_requests_seconds_sum{method="GET",status="200",group="canary"} 1.5
label_escapes{path="a\\"b"} 3 1700000000000
`;

const histogram = { histogram: 'http_server_requests_seconds', quantile: 0.5 };
const checkouts = { counter: 'checkout_completed_total' };

describe("the instances' own metrics (Prometheus text exposition)", () => {
  it('parses samples with their labels, skipping comments, and keeps timestamps out of values', () => {
    const samples = parseExposition(EXPOSITION);
    expect(samples[0]).toEqual({
      name: 'checkout_completed_total',
      labels: { service: 'shop', version: 'v1', group: 'canary' },
      value: 12,
    });
    expect(samples.find((s) => s.labels['le'] === '+Inf')?.value).toBe(100);
    expect(samples.at(-1)).toEqual({ name: 'label_escapes', labels: { path: 'a"b' }, value: 3 });
  });

  it('sums every series of a name, and histogram buckets per bound across statuses', () => {
    const totals = expositionTotals(parseExposition(EXPOSITION), [checkouts, histogram]);
    expect(totals).toEqual({
      checkout_completed_total: 12,
      'http_server_requests_seconds_bucket{le="0.01"}': 80,
      'http_server_requests_seconds_bucket{le="0.05"}': 100,
      'http_server_requests_seconds_bucket{le="+Inf"}': 110,
    });
    expect(addTotals([totals, { checkout_completed_total: 3 }])['checkout_completed_total']).toBe(
      15,
    );
  });

  it('gives a counter as increase per second, a ratio of increases, and an interpolated quantile', () => {
    expect(
      expositionValue(
        checkouts,
        { checkout_completed_total: 2 },
        { checkout_completed_total: 12 },
        5,
      ),
    ).toEqual({ value: 2 });
    expect(
      expositionValue(
        { ratio: { numerator: 'errors_total', denominator: 'requests_total' } },
        { errors_total: 1, requests_total: 100 },
        { errors_total: 6, requests_total: 200 },
        5,
      ),
    ).toEqual({ value: 0.05 });
    const before = {
      'h_bucket{le="0.01"}': 0,
      'h_bucket{le="0.05"}': 0,
      'h_bucket{le="+Inf"}': 0,
    };
    const after = {
      'h_bucket{le="0.01"}': 40,
      'h_bucket{le="0.05"}': 90,
      'h_bucket{le="+Inf"}': 100,
    };
    // Rank 50 of 100: 10 of the 50 in (0.01, 0.05], a fifth of the way.
    expect(expositionValue({ histogram: 'h', quantile: 0.5 }, before, after, 5).value).toBeCloseTo(
      0.018,
    );
    // Beyond the last finite bound: the highest finite bound, as histogram_quantile does.
    expect(expositionValue({ histogram: 'h', quantile: 0.99 }, before, after, 5).value).toBe(0.05);
  });

  it('has no value, and says why, for a missing name, a counter that went back or no observations', () => {
    expect(expositionValue(checkouts, {}, {}, 5)).toEqual({
      value: null,
      problem: 'checkout_completed_total is not exposed',
    });
    expect(
      expositionValue(
        checkouts,
        { checkout_completed_total: 9 },
        { checkout_completed_total: 1 },
        5,
      ),
    ).toEqual({ value: null, problem: 'checkout_completed_total went backwards' });
    const bucket = { 'h_bucket{le="+Inf"}': 4 };
    expect(expositionValue({ histogram: 'h', quantile: 0.5 }, bucket, bucket, 5)).toEqual({
      value: null,
      problem: 'h observed nothing',
    });
  });

  it("reads each query for both groups; an unreadable group is no data with the group's reason", () => {
    const readings = expositionReadings(
      [{ name: 'checkouts', query: checkouts }],
      { canary: { checkout_completed_total: 0 }, baseline: null },
      { canary: { checkout_completed_total: 10 }, baseline: { checkout_completed_total: 50 } },
      10,
      { baseline: 'no instance is routed' },
    );
    expect(readings).toEqual({
      checkouts: {
        canary: 1,
        baseline: null,
        problem: 'no data (baseline: no instance is routed)',
      },
    });
  });

  it('collects the values of every interval, and keeps a metric that never had one', () => {
    const interval = (
      custom: Record<string, { canary: number | null; baseline: number | null }>,
    ) => ({
      canary: emptyGroup(),
      baseline: emptyGroup(),
      custom,
    });
    expect(
      measuredValues([
        interval({
          checkouts: { canary: 1, baseline: 5 },
          silent: { canary: null, baseline: null },
        }),
        interval({ checkouts: { canary: null, baseline: 6 } }),
      ]),
    ).toEqual({
      checkouts: { canary: [1], baseline: [5, 6] },
      silent: { canary: [], baseline: [] },
    });
  });
});
