import { createHash } from 'node:crypto';

/** How one build of the demo's sample service behaves. */
export interface BuildBehaviour {
  /** Share of requests that answer 500, in [0, 1]. */
  errorRate: number;
  latencyMs: { p50: number; p99: number };
}

export type DemoStrategy = 'canary' | 'rolling' | 'blue-green';

/** What `rollgate demo --scenario FILE` reads, after validation and defaults. */
export interface Scenario {
  /** Instances of each build (the release plan's replicas). */
  instances: number;
  /** Synthetic user requests per second, sent whether or not earlier ones were answered. */
  rps: number;
  strategy: DemoStrategy;
  /** Canary shares in percent; canary releases only. */
  steps: number[];
  stepSeconds: number;
  /** Builds by version label; the first one is what runs before the first release. */
  versions: Record<string, BuildBehaviour>;
  /** The versions released after the first one, in order. */
  releases: string[];
}

/**
 * `npm start`'s scenario, the demo as it always was: a healthy build promoted step by step, then
 * a build that fails one request in four, rolled back by the analysis on its own.
 */
export const DEFAULT_SCENARIO: Scenario = {
  instances: 2,
  rps: 60,
  strategy: 'canary',
  steps: [20, 50],
  stepSeconds: 12,
  versions: {
    v1: { errorRate: 0.005, latencyMs: { p50: 8, p99: 20 } },
    v2: { errorRate: 0.005, latencyMs: { p50: 8, p99: 20 } },
    v3: { errorRate: 0.25, latencyMs: { p50: 8, p99: 20 } },
  },
  releases: ['v2', 'v3'],
};

const DEFAULT_STEP_SECONDS = 30;
const DEFAULT_LATENCY = { p50: 20, p99: 40 };
const STRATEGIES: readonly DemoStrategy[] = ['canary', 'rolling', 'blue-green'];
/** Version labels as the release API takes them (1-100 characters). */
const VERSION_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Bad scenario input: every problem as "field.path: what is wrong". */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks one object's fields against the allowed ones; unknown fields are mistakes, not extras. */
function unknownFields(value: Json, path: string, allowed: readonly string[]): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path}${key}: unknown field (expected one of ${allowed.join(', ')})`);
}

/**
 * Reads a decoded scenario file. Every problem names its field (`versions.v2.errorRate: must be
 * between 0 and 1`); all of them are reported at once.
 */
export function parseScenario(value: unknown): Scenario {
  if (!isObject(value)) throw new ScenarioError(['scenario: must be a JSON object']);
  const problems = unknownFields(value, '', [
    'instances',
    'rps',
    'strategy',
    'steps',
    'stepSeconds',
    'versions',
    'releases',
  ]);
  const number = (
    field: string,
    raw: unknown,
    min: number,
    max: number,
    integer: boolean,
  ): number | undefined => {
    const kind = integer ? 'an integer' : 'a number';
    if (typeof raw !== 'number' || !Number.isFinite(raw) || (integer && !Number.isInteger(raw))) {
      problems.push(`${field}: must be ${kind} between ${min} and ${max}`);
      return undefined;
    }
    if (raw < min || raw > max) {
      problems.push(`${field}: must be between ${min} and ${max} (got ${raw})`);
      return undefined;
    }
    return raw;
  };
  const required = (field: string) => {
    if (value[field] === undefined) problems.push(`${field}: is required`);
    return value[field] !== undefined;
  };

  const instances = required('instances')
    ? number('instances', value['instances'], 1, 20, true)
    : 1;
  const rps = required('rps') ? number('rps', value['rps'], 1, 1000, false) : 1;
  let strategy: DemoStrategy = 'canary';
  if (required('strategy')) {
    if (STRATEGIES.includes(value['strategy'] as DemoStrategy))
      strategy = value['strategy'] as DemoStrategy;
    else problems.push(`strategy: must be one of ${STRATEGIES.join(', ')}`);
  }
  const steps = parseSteps(value['steps'], strategy, problems);
  const stepSeconds =
    value['stepSeconds'] === undefined
      ? DEFAULT_STEP_SECONDS
      : number('stepSeconds', value['stepSeconds'], 1, 3600, true);
  const versions = required('versions') ? parseVersions(value['versions'], problems, number) : {};
  // Against every label given: a build with problems of its own was reported already.
  const labels = isObject(value['versions']) ? Object.keys(value['versions']) : [];
  const releases = required('releases') ? parseReleases(value['releases'], labels, problems) : [];

  if (problems.length > 0) throw new ScenarioError(problems);
  return {
    instances: instances!,
    rps: rps!,
    strategy,
    steps,
    stepSeconds: stepSeconds!,
    versions,
    releases,
  };
}

function parseSteps(raw: unknown, strategy: DemoStrategy, problems: string[]): number[] {
  if (raw === undefined) return strategy === 'canary' ? [5, 25, 50] : [];
  if (strategy !== 'canary') {
    problems.push(`steps: only canary releases have steps (strategy is ${strategy})`);
    return [];
  }
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 10) {
    problems.push('steps: must be a list of 1 to 10 percentages such as [5, 25, 50]');
    return [];
  }
  raw.forEach((step: unknown, i) => {
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 1 || step > 50)
      problems.push(
        `steps[${i}]: must be an integer between 1 and 50 (the baseline gets the same share)`,
      );
    else if (i > 0 && step <= (raw[i - 1] as number))
      problems.push(`steps[${i}]: must be above the step before it (${String(raw[i - 1])})`);
  });
  return raw as number[];
}

type NumberReader = (
  field: string,
  raw: unknown,
  min: number,
  max: number,
  integer: boolean,
) => number | undefined;

function parseVersions(
  raw: unknown,
  problems: string[],
  number: NumberReader,
): Record<string, BuildBehaviour> {
  if (!isObject(raw) || Object.keys(raw).length < 2 || Object.keys(raw).length > 10) {
    problems.push(
      'versions: must be an object of 2 to 10 builds by version label, the first one running at the start',
    );
    return {};
  }
  const versions: Record<string, BuildBehaviour> = {};
  for (const [label, build] of Object.entries(raw)) {
    const path = `versions.${label}`;
    if (!VERSION_LABEL.test(label)) {
      problems.push(`${path}: a version label is 1-100 letters, digits, '.', '_' or '-'`);
      continue;
    }
    // JavaScript lists integer-like keys first, whatever the file's order: "first" would lie.
    if (/^\d+$/.test(label)) {
      problems.push(`${path}: a version label must not be a plain number (write v${label})`);
      continue;
    }
    if (!isObject(build)) {
      problems.push(`${path}: must be an object such as {"errorRate": 0.01}`);
      continue;
    }
    problems.push(...unknownFields(build, `${path}.`, ['errorRate', 'latencyMs']));
    const errorRate =
      build['errorRate'] === undefined
        ? (problems.push(`${path}.errorRate: is required`), undefined)
        : number(`${path}.errorRate`, build['errorRate'], 0, 1, false);
    const latencyMs = parseLatency(build['latencyMs'], `${path}.latencyMs`, problems, number);
    if (errorRate !== undefined && latencyMs) versions[label] = { errorRate, latencyMs };
  }
  return versions;
}

function parseLatency(
  raw: unknown,
  path: string,
  problems: string[],
  number: NumberReader,
): BuildBehaviour['latencyMs'] | undefined {
  if (raw === undefined) return DEFAULT_LATENCY;
  if (!isObject(raw)) {
    problems.push(`${path}: must be an object such as {"p50": 40, "p99": 120}`);
    return undefined;
  }
  problems.push(...unknownFields(raw, `${path}.`, ['p50', 'p99']));
  const p50 = number(`${path}.p50`, raw['p50'], 0.1, 10_000, false);
  const p99 = number(`${path}.p99`, raw['p99'], 0.1, 10_000, false);
  if (p50 === undefined || p99 === undefined) return undefined;
  if (p99 < p50) {
    problems.push(`${path}.p99: must be at least p50 (${p50})`);
    return undefined;
  }
  return { p50, p99 };
}

function parseReleases(raw: unknown, versions: string[], problems: string[]): string[] {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 10) {
    problems.push('releases: must be a list of 1 to 10 version labels such as ["v2", "v3"]');
    return [];
  }
  const [initial] = versions;
  raw.forEach((version: unknown, i) => {
    const path = `releases[${i}]`;
    if (typeof version !== 'string') problems.push(`${path}: must be a version label`);
    else if (versions.length > 0 && !versions.includes(version))
      problems.push(`${path}: '${version}' is not one of versions (${versions.join(', ')})`);
    else if (version === initial)
      problems.push(
        `${path}: '${version}' is the build that runs at the start (first in versions)`,
      );
    else if (raw.indexOf(version) !== i)
      problems.push(`${path}: '${version}' is released once only`);
  });
  return raw as string[];
}

/** The standard normal's 99th percentile: p99 = p50 × e^(Z99 × σ) for a log-normal latency. */
const Z99 = 2.3263478740408408;

/** A build as the local fleet runs it: the sample service's knobs (median and log-normal spread). */
export interface FleetProfile {
  errorRate: number;
  latencyMs: number;
  latencySpread: number;
}

export function fleetProfile(build: BuildBehaviour): FleetProfile {
  return {
    errorRate: build.errorRate,
    latencyMs: build.latencyMs.p50,
    latencySpread: Math.log(build.latencyMs.p99 / build.latencyMs.p50) / Z99,
  };
}

/**
 * A content digest per build, from its label and behaviour: the same scenario always names the
 * same builds, and a changed behaviour is a different build.
 */
export const digestOf = (version: string, build: BuildBehaviour): string =>
  `sha256:${createHash('sha256')
    .update(JSON.stringify({ demo: version, ...build }))
    .digest('hex')}`;

/** The fleet's profiles file (digest → knobs) for a scenario's builds. */
export function fleetProfiles(scenario: Scenario): Record<string, FleetProfile> {
  return Object.fromEntries(
    Object.entries(scenario.versions).map(([version, build]) => [
      digestOf(version, build),
      fleetProfile(build),
    ]),
  );
}
