import { parse as parseYaml } from 'yaml';
import type { MetricInput } from '@rollgate/judges';
import { DEFAULT_ANALYSIS_POLICY, judgeSettings } from '../runs/scoring';
import {
  configMetrics,
  judgeSettingsFor,
  renderQuery,
  validateCanaryConfig,
  type CanaryConfig,
} from './canary-config';

const valid = (): Record<string, unknown> => ({
  apiVersion: 'rollgate/v1',
  kind: 'CanaryConfig',
  metrics: [
    {
      name: 'errors',
      query: {
        embedded: 'error-rate',
        prometheus:
          'sum(rate(http_requests_total{service="${service}",group="${group}",code=~"5.."}[${interval}]))',
      },
      direction: 'increase',
      critical: true,
      group: 'errors',
      thresholds: { max: 0.05 },
    },
    {
      name: 'latency',
      query: { embedded: 'latency' },
      direction: 'increase',
      group: 'latency',
      nanStrategy: 'replace',
    },
    {
      name: 'checkouts',
      query: { prometheus: 'sum(rate(checkout_completed_total{version="${version}"}[1m]))' },
      direction: 'decrease',
      weight: 2,
      group: 'business',
    },
  ],
  requests: {
    prometheus:
      'sum(increase(http_requests_total{service="${service}",group="${group}"}[${interval}]))',
  },
  groupWeights: { errors: 50, latency: 30, business: 20 },
  judge: { name: 'kayenta', settings: { metrics: { latency: { outlierStrategy: 'remove' } } } },
  scoreThresholds: { pass: 90, marginal: 70 },
});

/** The valid config, loosely typed so a test can break it anywhere. */
interface Editable {
  [field: string]: unknown;
  metrics: ({ query: Record<string, unknown> } & Record<string, unknown>)[];
  groupWeights: Record<string, number>;
  judge: Record<string, unknown>;
}

/** The problems of the valid config with `change` applied to it. */
function problemsOf(change: (config: Editable) => void) {
  const config = valid() as Editable;
  change(config);
  return validateCanaryConfig(config).problems;
}

describe('canary config validation', () => {
  it('accepts a complete config, from JSON or from YAML', () => {
    expect(validateCanaryConfig(valid())).toEqual({ config: valid(), problems: [] });
    const yaml = `
apiVersion: rollgate/v1
kind: CanaryConfig
metrics:
  - name: errors
    query: { embedded: error-rate }
    direction: increase
judge: { name: threshold, settings: { conditions: { errors: { max: 0.01 } } } }
`;
    expect(validateCanaryConfig(parseYaml(yaml)).problems).toEqual([]);
  });

  it.each([
    [
      'an unknown placeholder',
      (c: Editable) => (c.metrics[2]!.query.prometheus = 'up{job="${foo}"}'),
      'metrics[2].query.prometheus',
      'unknown placeholder ${foo}',
    ],
    [
      'an unknown placeholder in the requests query',
      (c: Editable) => (c.requests = { prometheus: 'sum(x{svc="${svc}"})' }),
      'requests.prometheus',
      'unknown placeholder ${svc}',
    ],
    [
      'a requests query for a source other than Prometheus',
      (c: Editable) => (c.requests = { embedded: 'requests' }),
      'requests',
      'must be {prometheus: <PromQL template>}',
    ],
    [
      'a duplicate metric name',
      (c: Editable) => (c.metrics[2]!.name = 'latency'),
      'metrics',
      'duplicate name "latency"',
    ],
    [
      'group weights that do not sum to 100',
      (c: Editable) => (c.groupWeights.business = 10),
      'groupWeights',
      'must sum to 100, got 90',
    ],
    [
      'a group without a weight',
      (c: Editable) => delete c.groupWeights.business,
      'groupWeights',
      'no weight for group "business"',
    ],
    [
      'a weight for a group no metric is in',
      (c: Editable) => (c.groupWeights.ghosts = 0),
      'groupWeights.ghosts',
      'no metric is in this group',
    ],
    [
      'an unknown source',
      (c: Editable) => (c.metrics[1]!.query.datadog = 'avg:latency'),
      'metrics[1].query.datadog',
      'unknown source',
    ],
    [
      'a metric without any query',
      (c: Editable) => (c.metrics[1]!.query = {}),
      'metrics[1].query',
      'needs a query',
    ],
    [
      'an unknown built-in signal',
      (c: Editable) => (c.metrics[1]!.query.embedded = 'cpu'),
      'metrics[1].query.embedded',
      'must be a built-in signal',
    ],
    [
      'a built-in signal measured twice',
      (c: Editable) => (c.metrics[2]!.query.embedded = 'latency'),
      'metrics[2].query.embedded',
      'already measured by metrics[1]',
    ],
    [
      'a wrong direction',
      (c: Editable) => (c.metrics[0]!.direction = 'up'),
      'metrics[0].direction',
      'must be one of increase, decrease, either',
    ],
    [
      'a weight of 0',
      (c: Editable) => (c.metrics[2]!.weight = 0),
      'metrics[2].weight',
      'must be a number > 0',
    ],
    [
      'an unknown NaN strategy',
      (c: Editable) => (c.metrics[1]!.nanStrategy = 'zero'),
      'metrics[1].nanStrategy',
      'must be remove or replace',
    ],
    [
      'thresholds with min above max',
      (c: Editable) => (c.metrics[0]!.thresholds = { min: 2, max: 1 }),
      'metrics[0].thresholds.min',
      'must be ≤ max',
    ],
    [
      'thresholds without a bound',
      (c: Editable) => (c.metrics[0]!.thresholds = { aggregate: 'p99' }),
      'metrics[0].thresholds',
      'needs max, min or both',
    ],
    [
      'an unknown judge',
      (c: Editable) => (c.judge = { name: 'bayes' }),
      'judge.name',
      'must be one of',
    ],
    [
      'a setting the judge does not have',
      (c: Editable) => (c.judge.settings = { alpha: 0.01 }),
      'judge.settings.alpha',
      'is not a setting of this judge',
    ],
    [
      'a judge setting of the wrong type',
      (c: Editable) => (c.judge = { name: 'sequential', settings: { alpha: 2 } }),
      'judge.settings.alpha',
      'must be < 1',
    ],
    [
      'score thresholds inside the judge settings',
      (c: Editable) => (c.judge.settings = { scoreThresholds: { pass: 1, marginal: 0 } }),
      'judge.settings.scoreThresholds',
      'at the top level',
    ],
    [
      'marginal above pass',
      (c: Editable) => (c.scoreThresholds = { pass: 60, marginal: 70 }),
      'scoreThresholds.marginal',
      'must be ≤ pass',
    ],
    [
      'an unknown top-level field',
      (c: Editable) => (c.metricz = []),
      'metricz',
      'is not a canary config field',
    ],
    ['a wrong apiVersion', (c: Editable) => (c.apiVersion = 'v2'), 'apiVersion', 'must be'],
    ['no metrics', (c: Editable) => (c.metrics = []), 'metrics', 'must be a non-empty array'],
  ])('refuses %s, naming the path', (_, change, field, problem) => {
    const problems = problemsOf(change);
    expect(problems).toContainEqual({ field, problem: expect.stringContaining(problem) });
  });

  it('accepts exposition queries for the embedded source and names the field of a bad one', () => {
    const withEmbedded = (embedded: unknown) =>
      problemsOf((c) => (c.metrics[2]!.query.embedded = embedded));
    expect(withEmbedded({ counter: 'checkout_completed_total' })).toEqual([]);
    expect(withEmbedded({ histogram: 'http_server_requests_seconds', quantile: 0.99 })).toEqual([]);
    expect(withEmbedded({ ratio: { numerator: 'a_total', denominator: 'b_total' } })).toEqual([]);
    expect(withEmbedded({ counter: 'checkout-total' })).toEqual([
      {
        field: 'metrics[2].query.embedded.counter',
        problem: 'must be a Prometheus metric name (letters, digits, _ and :)',
      },
    ]);
    expect(withEmbedded({ histogram: 'h', quantile: 1 })).toEqual([
      {
        field: 'metrics[2].query.embedded.quantile',
        problem: 'must be a number between 0 and 1 (exclusive)',
      },
    ]);
    expect(withEmbedded({ counter: 'a', histogram: 'b' })[0]).toEqual({
      field: 'metrics[2].query.embedded',
      problem: 'must name exactly one of counter, histogram or ratio',
    });
    expect(withEmbedded({ ratio: { numerator: 'a', under: 'b' } }).map((p) => p.field)).toEqual([
      'metrics[2].query.embedded.ratio.under',
      'metrics[2].query.embedded.ratio.denominator',
    ]);
    expect(withEmbedded({ counter: 'a', quantile: 0.5 })[0]?.field).toBe(
      'metrics[2].query.embedded.quantile',
    );
  });

  it('lists every problem, not only the first', () => {
    const problems = problemsOf((c) => {
      c.metrics[0]!.direction = 'sideways';
      c.metrics[2]!.query.prometheus = 'x{a="${nope}"}';
    });
    expect(problems.map((p) => p.field)).toEqual([
      'metrics[0].direction',
      'metrics[2].query.prometheus',
    ]);
  });

  it('renders a template with the values of one group', () => {
    expect(
      renderQuery('rate(x{s="${service}",g="${group}",v="${version}"}[${interval}])', {
        service: 'checkout',
        group: 'canary',
        version: 'v2',
        interval: '30s',
      }),
    ).toBe('rate(x{s="checkout",g="canary",v="v2"}[30s])');
  });
});

describe('what a canary config changes in the judging', () => {
  const config = valid() as unknown as CanaryConfig;
  const builtIn = judgeSettings(DEFAULT_ANALYSIS_POLICY);

  it('renames the built-in signal settings to the metrics that measure them and adds its own', () => {
    const settings = judgeSettingsFor(config, builtIn);
    expect(settings.judge).toBe('kayenta');
    expect(settings.kayenta?.scoreThresholds).toEqual({ pass: 90, marginal: 70 });
    expect(settings.kayenta?.groupWeights).toEqual({ errors: 50, latency: 30, business: 20 });
    expect(settings.kayenta?.metrics?.latency).toEqual({
      effectSize: { allowedIncrease: 1.2 },
      groups: ['latency'],
      nanStrategy: 'replace',
      outlierStrategy: 'remove',
    });
    // The fallback bound on the error rate now keys the metric `errors`, replaced by its own.
    expect(settings.threshold?.conditions?.errors).toEqual({ max: 0.05 });
    expect(settings.threshold?.conditions?.['error-rate']).toBeUndefined();
    expect(settings.sequential?.metrics?.errors).toEqual({ kind: 'proportion' });
  });

  it('feeds the built-in signals to the metrics that name them, with their direction and weight', () => {
    const inputs: MetricInput[] = [
      {
        name: 'error-rate',
        baseline: [0, 1],
        canary: [1, 1],
        direction: 'increase',
        critical: true,
      },
      { name: 'latency', baseline: [5], canary: [6], direction: 'increase' },
      { name: 'saturation', baseline: [1], canary: [1], direction: 'increase', weight: 0.5 },
    ];
    const { metrics, notes } = configMetrics(config, inputs);
    expect(metrics).toEqual([
      { name: 'errors', baseline: [0, 1], canary: [1, 1], direction: 'increase', critical: true },
      { name: 'latency', baseline: [5], canary: [6], direction: 'increase' },
    ]);
    expect(notes).toEqual(['checkouts: no query the current metric source runs; not scored']);
  });

  it("feeds a metric its own query's values; one the source ran without data gets none (NODATA)", () => {
    const inputs: MetricInput[] = [
      { name: 'error-rate', baseline: [0], canary: [0], direction: 'increase', critical: true },
    ];
    const measured = { checkouts: { canary: [1, 2], baseline: [20, 22] } };
    expect(configMetrics(config, inputs, measured)).toEqual({
      metrics: [
        { name: 'errors', baseline: [0], canary: [0], direction: 'increase', critical: true },
        { name: 'checkouts', baseline: [20, 22], canary: [1, 2], direction: 'decrease', weight: 2 },
      ],
      notes: [],
    });
    // On Prometheus a metric's own PromQL wins over the built-in signal it names for the embedded source.
    const errorsByPromql = configMetrics(config, inputs, {
      errors: { canary: [0.01], baseline: [0.02] },
    }).metrics.find((m) => m.name === 'errors');
    expect(errorsByPromql).toMatchObject({ canary: [0.01], baseline: [0.02] });
    const silent = configMetrics(config, inputs, { checkouts: { canary: [], baseline: [] } });
    expect(silent.metrics.find((m) => m.name === 'checkouts')).toMatchObject({
      canary: [],
      baseline: [],
    });
  });
});
