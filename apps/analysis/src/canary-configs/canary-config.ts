import Ajv, { type ErrorObject } from 'ajv';
import {
  AGGREGATES,
  DIRECTIONS,
  JUDGE_NAMES,
  JUDGE_SETTINGS_SCHEMA,
  type Aggregate,
  type Direction,
  type JudgeName,
  type JudgeSettings,
  type MetricInput,
} from '@rollgate/judges';

export const CANARY_CONFIG_API_VERSION = 'rollgate/v1';
export const CANARY_CONFIG_KIND = 'CanaryConfig';

/** What a PromQL template may refer to; each is replaced per group when the query runs. */
export const QUERY_PLACEHOLDERS = ['service', 'group', 'version', 'interval'] as const;

/** The signals the embedded source measures itself (and the Prometheus source from the sample names). */
export const EMBEDDED_SIGNALS = ['error-rate', 'latency', 'saturation'] as const;
export type EmbeddedSignal = (typeof EMBEDDED_SIGNALS)[number];

export const METRIC_SOURCES = ['prometheus', 'embedded'] as const;

/**
 * What the embedded source reads from each instance's own `/metrics` (Prometheus text format),
 * summed over the group's instances: a counter's increase per second, a histogram's quantile (in
 * the histogram's unit), or the ratio of two counters' increases.
 */
export type ExpositionQuery =
  | { counter: string }
  | { histogram: string; quantile: number }
  | { ratio: { numerator: string; denominator: string } };

/** An embedded query: a built-in signal, or a metric the instances expose themselves. */
export type EmbeddedQuery = EmbeddedSignal | ExpositionQuery;

export interface CanaryMetricQuery {
  /** PromQL template with `${service}`, `${group}`, `${version}`, `${interval}`. */
  prometheus?: string;
  /** A built-in signal of the embedded source, or a metric of the instances' exposition. */
  embedded?: EmbeddedQuery;
}

/** The built-in signal a query names, or null when it reads the exposition (or names none). */
export const builtInSignal = (query: CanaryMetricQuery): EmbeddedSignal | null =>
  typeof query.embedded === 'string' ? query.embedded : null;

export interface CanaryMetric {
  name: string;
  query: CanaryMetricQuery;
  /** The direction of change that is bad. */
  direction: Direction;
  /** A critical metric that fails fails the canary. */
  critical?: boolean;
  /** Relative weight in the score; default 1. */
  weight?: number;
  /** Scoring group (Kayenta's groups); default: a group of its own. */
  group?: string;
  /** Absolute bounds on the canary alone, checked by the threshold judge. */
  thresholds?: { aggregate?: Aggregate; max?: number; min?: number };
  /** Missing values: `remove` drops them, `replace` turns them into 0 (Kayenta). */
  nanStrategy?: 'remove' | 'replace';
}

/** A canary config as applied: which metrics, how they weigh, and which judge decides. */
export interface CanaryConfig {
  apiVersion: typeof CANARY_CONFIG_API_VERSION;
  kind: typeof CANARY_CONFIG_KIND;
  name?: string;
  description?: string;
  metrics: CanaryMetric[];
  /**
   * How the Prometheus source counts the requests each group served in an interval (PromQL
   * template, same placeholders), for the low-traffic policy and the "no requests reached the
   * canary" guard. Default: the built-in `sample_requests_total`.
   */
  requests?: { prometheus: string };
  /** Weight (out of 100) per metric group; when set, every group needs one and they sum to 100. */
  groupWeights?: Record<string, number>;
  /** The judge and its own settings; default sequential with its defaults. */
  judge?: { name: JudgeName; settings?: Record<string, unknown> };
  /** Score ≥ pass is PASS, ≥ marginal is MARGINAL (score-based judges). */
  scoreThresholds?: { pass: number; marginal: number };
}

/** One refusal: the path in the document and what is wrong there. */
export interface ConfigProblem {
  field: string;
  problem: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const METRIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** A Prometheus sample name, as an exposition writes it (`checkout_completed_total`). */
const EXPOSED_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;
const MAX_METRICS = 50;
const MAX_QUERY_LENGTH = 4000;

/** Settings a canary config sets at its top level, not inside the judge's own settings. */
const TOP_LEVEL_ONLY: Record<string, string> = {
  scoreThresholds: 'scoreThresholds',
  groupWeights: 'groupWeights',
};

const ajv = new Ajv({ allErrors: false });
const settingsValidators = new Map(
  JUDGE_NAMES.map((name) => [
    name,
    ajv.compile((JUDGE_SETTINGS_SCHEMA.properties as Record<string, object>)[name]!),
  ]),
);

/** Ajv's JSON pointer `/metrics/latency/kind` as `.metrics.latency.kind`. */
const dotted = (pointer: string): string =>
  pointer.replace(/\/([^/]+)/g, (_, key: string) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`));

function ajvProblem(error: ErrorObject | undefined, prefix: string): ConfigProblem {
  const extra =
    error?.params && 'additionalProperty' in error.params
      ? `.${String(error.params.additionalProperty)}`
      : '';
  return {
    field: `${prefix}${dotted(error?.instancePath ?? '')}${extra}`,
    problem: extra ? 'is not a setting of this judge' : (error?.message ?? 'is invalid'),
  };
}

/** The placeholders a template uses that are not known, e.g. `${foo}`. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)]
    .map((match) => match[1]!)
    .filter((name) => !(QUERY_PLACEHOLDERS as readonly string[]).includes(name));
}

/** The template with every placeholder replaced by `values`. */
export function renderQuery(
  template: string,
  values: Record<(typeof QUERY_PLACEHOLDERS)[number], string>,
): string {
  return template.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as keyof typeof values] : whole,
  );
}

/**
 * Checks a decoded canary config (JSON or YAML) and lists every problem with its path, e.g.
 * `metrics[2].query.prometheus: unknown placeholder ${foo}`. PromQL syntax is checked apart, by
 * Prometheus itself (see PromqlCheck).
 */
export function validateCanaryConfig(value: unknown): {
  config: CanaryConfig | null;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  const refuse = (field: string, problem: string) => problems.push({ field, problem });
  if (!isObject(value)) {
    refuse('config', 'must be an object');
    return { config: null, problems };
  }
  const known = [
    'apiVersion',
    'kind',
    'name',
    'description',
    'metrics',
    'requests',
    'groupWeights',
    'judge',
    'scoreThresholds',
  ];
  for (const key of Object.keys(value))
    if (!known.includes(key)) refuse(key, `is not a canary config field (${known.join(', ')})`);
  if (value.apiVersion !== CANARY_CONFIG_API_VERSION)
    refuse('apiVersion', `must be "${CANARY_CONFIG_API_VERSION}"`);
  if (value.kind !== CANARY_CONFIG_KIND) refuse('kind', `must be "${CANARY_CONFIG_KIND}"`);
  if (value.name !== undefined && !(typeof value.name === 'string' && NAME.test(value.name)))
    refuse('name', 'must be lowercase letters, digits and dashes (at most 63)');
  if (
    value.description !== undefined &&
    !(typeof value.description === 'string' && value.description.length <= 2000)
  )
    refuse('description', 'must be a string of at most 2000 characters');

  const groups = validateMetrics(value.metrics, refuse);
  validateRequests(value.requests, refuse);
  validateGroupWeights(value.groupWeights, groups, refuse);
  validateJudge(value.judge, refuse);
  validateScoreThresholds(value.scoreThresholds, refuse);
  return { config: problems.length === 0 ? (value as unknown as CanaryConfig) : null, problems };
}

type Refuse = (field: string, problem: string) => void;

/** Checks every metric; returns the scoring group of each valid one (its own name by default). */
function validateMetrics(value: unknown, refuse: Refuse): Map<string, string> {
  const groups = new Map<string, string>();
  if (!Array.isArray(value) || value.length === 0) {
    refuse('metrics', 'must be a non-empty array');
    return groups;
  }
  if (value.length > MAX_METRICS) refuse('metrics', `must have at most ${MAX_METRICS} metrics`);
  const firstWithName = new Map<string, number>();
  const firstWithSignal = new Map<string, number>();
  value.forEach((metric: unknown, i) => {
    const path = `metrics[${i}]`;
    if (!isObject(metric)) return refuse(path, 'must be an object');
    const known = [
      'name',
      'query',
      'direction',
      'critical',
      'weight',
      'group',
      'thresholds',
      'nanStrategy',
    ];
    for (const key of Object.keys(metric))
      if (!known.includes(key)) refuse(`${path}.${key}`, 'is not a metric field');
    const name = metric.name;
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      refuse(`${path}.name`, 'must be 1-100 letters, digits, _ . : or - (starting alphanumeric)');
    } else if (firstWithName.has(name)) {
      refuse('metrics', `duplicate name "${name}" (metrics[${firstWithName.get(name)}], ${path})`);
    } else {
      firstWithName.set(name, i);
    }
    const signal = validateQuery(metric.query, `${path}.query`, refuse);
    if (signal !== null) {
      const first = firstWithSignal.get(signal);
      if (first !== undefined)
        refuse(`${path}.query.embedded`, `"${signal}" is already measured by metrics[${first}]`);
      else firstWithSignal.set(signal, i);
    }
    if (!DIRECTIONS.includes(metric.direction as Direction))
      refuse(`${path}.direction`, `must be one of ${DIRECTIONS.join(', ')}`);
    if (metric.critical !== undefined && typeof metric.critical !== 'boolean')
      refuse(`${path}.critical`, 'must be true or false');
    if (
      metric.weight !== undefined &&
      !(typeof metric.weight === 'number' && Number.isFinite(metric.weight) && metric.weight > 0)
    )
      refuse(`${path}.weight`, 'must be a number > 0');
    if (metric.group !== undefined && !(typeof metric.group === 'string' && metric.group !== ''))
      refuse(`${path}.group`, 'must be a non-empty string');
    if (
      metric.nanStrategy !== undefined &&
      !['remove', 'replace'].includes(String(metric.nanStrategy))
    )
      refuse(`${path}.nanStrategy`, 'must be remove or replace');
    if (metric.thresholds !== undefined)
      validateThresholds(metric.thresholds, `${path}.thresholds`, refuse);
    if (typeof name === 'string')
      groups.set(name, typeof metric.group === 'string' ? metric.group : name);
  });
  return groups;
}

function validatePromqlTemplate(promql: unknown, path: string, refuse: Refuse): void {
  if (typeof promql !== 'string' || promql.trim() === '' || promql.length > MAX_QUERY_LENGTH)
    return refuse(path, `must be a PromQL template of 1-${MAX_QUERY_LENGTH} characters`);
  for (const unknown of unknownPlaceholders(promql))
    refuse(
      path,
      `unknown placeholder \${${unknown}}; known: ${QUERY_PLACEHOLDERS.map((p) => `\${${p}}`).join(', ')}`,
    );
}

function validateRequests(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value) || Object.keys(value).join() !== 'prometheus')
    return refuse('requests', 'must be {prometheus: <PromQL template>}');
  validatePromqlTemplate(value.prometheus, 'requests.prometheus', refuse);
}

/** Checks one metric's queries; returns the embedded signal it names, if any. */
function validateQuery(value: unknown, path: string, refuse: Refuse): string | null {
  if (!isObject(value)) {
    refuse(path, `must be an object with a query per source (${METRIC_SOURCES.join(', ')})`);
    return null;
  }
  const sources = Object.keys(value);
  for (const source of sources)
    if (!(METRIC_SOURCES as readonly string[]).includes(source))
      refuse(`${path}.${source}`, `unknown source; known: ${METRIC_SOURCES.join(', ')}`);
  if (value.prometheus === undefined && value.embedded === undefined)
    refuse(path, `needs a query for at least one source (${METRIC_SOURCES.join(', ')})`);
  if (value.prometheus !== undefined)
    validatePromqlTemplate(value.prometheus, `${path}.prometheus`, refuse);
  if (value.embedded === undefined) return null;
  if (isObject(value.embedded)) {
    validateExpositionQuery(value.embedded, `${path}.embedded`, refuse);
    return null;
  }
  if (!(EMBEDDED_SIGNALS as readonly unknown[]).includes(value.embedded)) {
    refuse(
      `${path}.embedded`,
      `must be a built-in signal (${EMBEDDED_SIGNALS.join(', ')}) or {counter}, {histogram, quantile} or {ratio: {numerator, denominator}}`,
    );
    return null;
  }
  return value.embedded as string;
}

function validateExpositionQuery(value: Json, path: string, refuse: Refuse): void {
  const kinds = ['counter', 'histogram', 'ratio'].filter((kind) => kind in value);
  if (kinds.length !== 1)
    return refuse(path, 'must name exactly one of counter, histogram or ratio');
  const allowed = { counter: ['counter'], histogram: ['histogram', 'quantile'], ratio: ['ratio'] }[
    kinds[0] as 'counter' | 'histogram' | 'ratio'
  ];
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) refuse(`${path}.${key}`, `is not a field of a ${kinds[0]} query`);
  const exposedName = (name: unknown, field: string) => {
    if (!(typeof name === 'string' && EXPOSED_NAME.test(name)))
      refuse(field, 'must be a Prometheus metric name (letters, digits, _ and :)');
  };
  if ('counter' in value) exposedName(value.counter, `${path}.counter`);
  if ('histogram' in value) {
    exposedName(value.histogram, `${path}.histogram`);
    const q = value.quantile;
    if (!(typeof q === 'number' && q > 0 && q < 1))
      refuse(`${path}.quantile`, 'must be a number between 0 and 1 (exclusive)');
  }
  if ('ratio' in value) {
    const ratio = value.ratio;
    if (!isObject(ratio)) return refuse(`${path}.ratio`, 'must be {numerator, denominator}');
    for (const key of Object.keys(ratio))
      if (!['numerator', 'denominator'].includes(key))
        refuse(`${path}.ratio.${key}`, 'is not a ratio field (numerator, denominator)');
    exposedName(ratio.numerator, `${path}.ratio.numerator`);
    exposedName(ratio.denominator, `${path}.ratio.denominator`);
  }
}

function validateThresholds(value: unknown, path: string, refuse: Refuse): void {
  if (!isObject(value)) return refuse(path, 'must be an object (aggregate, max, min)');
  for (const key of Object.keys(value))
    if (!['aggregate', 'max', 'min'].includes(key))
      refuse(`${path}.${key}`, 'is not a threshold field (aggregate, max, min)');
  if (value.aggregate !== undefined && !AGGREGATES.includes(value.aggregate as Aggregate))
    refuse(`${path}.aggregate`, `must be one of ${AGGREGATES.join(', ')}`);
  const bound = (key: 'max' | 'min') => {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    refuse(`${path}.${key}`, 'must be a number');
    return undefined;
  };
  const max = bound('max');
  const min = bound('min');
  if (value.max === undefined && value.min === undefined) refuse(path, 'needs max, min or both');
  if (max !== undefined && min !== undefined && min > max) refuse(`${path}.min`, 'must be ≤ max');
}

function validateGroupWeights(value: unknown, groups: Map<string, string>, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value)) return refuse('groupWeights', 'must be an object of group → weight');
  const used = new Set(groups.values());
  let sum = 0;
  for (const [group, weight] of Object.entries(value)) {
    if (!(typeof weight === 'number' && Number.isFinite(weight) && weight >= 0)) {
      refuse(`groupWeights.${group}`, 'must be a number ≥ 0');
      continue;
    }
    if (!used.has(group)) refuse(`groupWeights.${group}`, 'no metric is in this group');
    sum += weight;
  }
  [...groups.entries()].forEach(([metric, group]) => {
    if (!(group in value))
      refuse('groupWeights', `has no weight for group "${group}" (of metric "${metric}")`);
  });
  if (Math.abs(sum - 100) > 1e-9) refuse('groupWeights', `must sum to 100, got ${sum}`);
}

function validateJudge(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value)) return refuse('judge', 'must be an object (name, settings)');
  for (const key of Object.keys(value))
    if (!['name', 'settings'].includes(key))
      refuse(`judge.${key}`, 'is not a judge field (name, settings)');
  if (!(JUDGE_NAMES as readonly unknown[]).includes(value.name))
    return refuse('judge.name', `must be one of ${JUDGE_NAMES.join(', ')}`);
  if (value.settings === undefined) return;
  if (!isObject(value.settings)) return refuse('judge.settings', 'must be an object');
  for (const key of Object.keys(value.settings))
    if (key in TOP_LEVEL_ONLY)
      refuse(`judge.settings.${key}`, `set ${TOP_LEVEL_ONLY[key]} at the top level of the config`);
  const validate = settingsValidators.get(value.name as JudgeName)!;
  if (!validate(value.settings)) {
    const { field, problem } = ajvProblem(validate.errors?.[0], 'judge.settings');
    refuse(field, problem);
  }
}

function validateScoreThresholds(value: unknown, refuse: Refuse): void {
  if (value === undefined) return;
  if (!isObject(value)) return refuse('scoreThresholds', 'must be an object (pass, marginal)');
  for (const key of Object.keys(value))
    if (!['pass', 'marginal'].includes(key))
      refuse(`scoreThresholds.${key}`, 'is not a threshold (pass, marginal)');
  const score = (key: 'pass' | 'marginal') => {
    const v = value[key];
    if (typeof v === 'number' && v >= 0 && v <= 100) return v;
    refuse(`scoreThresholds.${key}`, 'must be a number from 0 to 100');
    return undefined;
  };
  const pass = score('pass');
  const marginal = score('marginal');
  if (pass !== undefined && marginal !== undefined && marginal > pass)
    refuse('scoreThresholds.marginal', 'must be ≤ pass');
}

/** Per-metric settings: `own` over `base`, each metric's nested objects (effectSize) merged too. */
function mergeByMetric(base: Record<string, unknown>, own: Json): Record<string, Json> {
  const merged: Record<string, Json> = {};
  for (const name of new Set([...Object.keys(base), ...Object.keys(own)])) {
    const a = isObject(base[name]) ? base[name] : {};
    const b = isObject(own[name]) ? own[name] : {};
    merged[name] = { ...a, ...b };
    for (const [key, value] of Object.entries(b))
      if (isObject(value) && isObject(a[key])) merged[name][key] = { ...a[key], ...value };
  }
  return merged;
}

/**
 * What a config changes in the analysis' built-in judge settings (the golden signals'): the
 * judge's own settings, the score thresholds and group weights, and per metric its group,
 * NaN strategy and absolute thresholds. Settings keyed by a built-in signal are renamed to the
 * metric that measures it, so they still apply.
 */
export function judgeSettingsFor(config: CanaryConfig, builtIn: JudgeSettings): JudgeSettings {
  const signalNames = new Map<string, string>(
    config.metrics.flatMap((m) => {
      const signal = builtInSignal(m.query);
      return signal ? [[signal, m.name] as const] : [];
    }),
  );
  const rename = <T>(byMetric: Record<string, T> | undefined): Record<string, T> =>
    Object.fromEntries(
      Object.entries(byMetric ?? {}).map(([name, v]) => [signalNames.get(name) ?? name, v]),
    );
  const own = (config.judge?.settings ?? {}) as JudgeSettings[keyof Omit<JudgeSettings, 'judge'>] &
    Json;
  const judge = config.judge?.name;
  const kayentaMetrics = rename(builtIn.kayenta?.metrics);
  const thresholdConditions = rename(builtIn.threshold?.conditions);
  for (const metric of config.metrics) {
    if (metric.group !== undefined || metric.nanStrategy !== undefined)
      kayentaMetrics[metric.name] = {
        ...kayentaMetrics[metric.name],
        ...(metric.group !== undefined && { groups: [metric.group] }),
        ...(metric.nanStrategy !== undefined && { nanStrategy: metric.nanStrategy }),
      };
    if (metric.thresholds) thresholdConditions[metric.name] = { ...metric.thresholds };
  }
  const ownMetrics = isObject(own.metrics) ? own.metrics : {};
  const ownConditions = isObject(own.conditions) ? own.conditions : {};
  return {
    ...(judge && { judge }),
    sequential: {
      ...builtIn.sequential,
      ...(judge === 'sequential' && own),
      metrics: mergeByMetric(
        rename(builtIn.sequential?.metrics),
        judge === 'sequential' ? ownMetrics : {},
      ),
    },
    kayenta: {
      ...builtIn.kayenta,
      ...(judge === 'kayenta' && own),
      ...(config.scoreThresholds && { scoreThresholds: config.scoreThresholds }),
      ...(config.groupWeights && { groupWeights: config.groupWeights }),
      metrics: mergeByMetric(kayentaMetrics, judge === 'kayenta' ? ownMetrics : {}),
    },
    threshold: {
      ...builtIn.threshold,
      ...(judge === 'threshold' && own),
      conditions: mergeByMetric(thresholdConditions, judge === 'threshold' ? ownConditions : {}),
    },
  } as JudgeSettings;
}

/** One config metric's values per group over every interval so far, as its own query read them. */
export interface MeasuredValues {
  canary: readonly number[];
  baseline: readonly number[];
}

/**
 * The judge inputs of the config's metrics: a metric whose own query the source ran takes what it
 * read (empty when the query returned nothing, so the judge says NODATA: fail safe), else a metric
 * naming a built-in signal takes that signal's values, both under the metric's name, direction,
 * criticality and weight. A metric neither measures is reported, not scored; a config that
 * measures none of its metrics leaves the built-in inputs as they are.
 */
export function configMetrics(
  config: CanaryConfig,
  builtIn: readonly MetricInput[],
  measured: Readonly<Record<string, MeasuredValues>> = {},
): { metrics: MetricInput[]; notes: string[] } {
  const bySignal = new Map<string, MetricInput>(builtIn.map((input) => [input.name, input]));
  const valuesOf = (metric: CanaryMetric): MeasuredValues | undefined => {
    const signal = builtInSignal(metric.query);
    return measured[metric.name] ?? (signal ? bySignal.get(signal) : undefined);
  };
  const unmeasured = config.metrics
    .filter((m) => !builtInSignal(m.query) && !(m.name in measured))
    .map((m) => m.name);
  const notes =
    unmeasured.length === 0
      ? []
      : [`${unmeasured.join(', ')}: no query the current metric source runs; not scored`];
  if (unmeasured.length === config.metrics.length) return { metrics: [...builtIn], notes };
  const metrics = config.metrics.flatMap((metric) => {
    const values = valuesOf(metric);
    if (!values) return [];
    return [
      {
        name: metric.name,
        baseline: values.baseline,
        canary: values.canary,
        direction: metric.direction,
        ...(metric.critical !== undefined && { critical: metric.critical }),
        ...(metric.weight !== undefined && { weight: metric.weight }),
      },
    ];
  });
  return { metrics, notes };
}
