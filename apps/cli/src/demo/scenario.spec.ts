import { DIGEST_PATTERN } from '@rollgate/contracts';
import {
  DEFAULT_SCENARIO,
  digestOf,
  fleetProfile,
  fleetProfiles,
  parseScenario,
  ScenarioError,
} from './scenario';

/** The scenario of the issue that asked for `rollgate demo`. */
const EXAMPLE = {
  instances: 4,
  rps: 200,
  strategy: 'canary',
  steps: [5, 25, 50],
  stepSeconds: 30,
  versions: {
    v1: { errorRate: 0.01, latencyMs: { p50: 40, p99: 120 } },
    v2: { errorRate: 0.05, latencyMs: { p50: 40, p99: 120 } },
    v3: { errorRate: 0.01 },
  },
  releases: ['v2', 'v3'],
};

/** The problems a scenario is refused for, one per entry. */
function problemsOf(value: unknown): string[] {
  try {
    parseScenario(value);
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems;
    throw error;
  }
  throw new Error('the scenario was accepted');
}

const withField = (path: string[], value: unknown) => {
  const copy = structuredClone(EXAMPLE) as Record<string, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string, unknown>;
  if (value === undefined) delete target[path[path.length - 1]!];
  else target[path[path.length - 1]!] = value;
  return copy;
};

describe('demo scenario', () => {
  it('reads the documented shape, with defaults for what is optional', () => {
    const scenario = parseScenario(EXAMPLE);
    expect(scenario).toEqual({
      ...EXAMPLE,
      versions: { ...EXAMPLE.versions, v3: { errorRate: 0.01, latencyMs: { p50: 20, p99: 40 } } },
    });
    const minimal = parseScenario(withField(['steps'], undefined));
    expect(minimal.steps).toEqual([5, 25, 50]);
    expect(parseScenario(withField(['stepSeconds'], undefined)).stepSeconds).toBe(30);
    // The first build listed is the one running at the start, whatever its name.
    const renamed = parseScenario({
      ...EXAMPLE,
      versions: { stable: EXAMPLE.versions.v1, v2: EXAMPLE.versions.v2 },
      releases: ['v2'],
    });
    expect(Object.keys(renamed.versions)[0]).toBe('stable');
  });

  it("accepts npm start's own scenario", () => {
    expect(parseScenario(DEFAULT_SCENARIO)).toEqual(DEFAULT_SCENARIO);
  });

  it('names the field of every problem', () => {
    expect(problemsOf(withField(['versions', 'v2', 'errorRate'], 5))).toEqual([
      'versions.v2.errorRate: must be between 0 and 1 (got 5)',
    ]);
    expect(problemsOf(withField(['versions', 'v2', 'errorRate'], '5%'))).toEqual([
      'versions.v2.errorRate: must be a number between 0 and 1',
    ]);
    expect(problemsOf(withField(['instances'], 2.5))).toEqual([
      'instances: must be an integer between 1 and 20',
    ]);
    expect(problemsOf(withField(['rps'], undefined))).toEqual(['rps: is required']);
    expect(problemsOf(withField(['strategy'], 'big-bang'))).toEqual([
      'strategy: must be one of canary, rolling, blue-green',
    ]);
    expect(problemsOf(withField(['versions', 'v1', 'latencyMs', 'p99'], 10))).toEqual([
      'versions.v1.latencyMs.p99: must be at least p50 (40)',
    ]);
    expect(problemsOf(withField(['versions', 'v2', 'latency'], 5))).toEqual([
      'versions.v2.latency: unknown field (expected one of errorRate, latencyMs)',
    ]);
    expect(problemsOf(withField(['replicas'], 2))).toEqual([
      'replicas: unknown field (expected one of instances, rps, strategy, steps, stepSeconds, versions, releases)',
    ]);
    expect(problemsOf('not an object')).toEqual(['scenario: must be a JSON object']);
  });

  it('checks steps as the release API would, and only for canary releases', () => {
    expect(problemsOf(withField(['steps'], [5, 60]))).toEqual([
      'steps[1]: must be an integer between 1 and 50 (the baseline gets the same share)',
    ]);
    expect(problemsOf(withField(['steps'], [25, 5]))).toEqual([
      'steps[1]: must be above the step before it (25)',
    ]);
    expect(problemsOf({ ...EXAMPLE, strategy: 'rolling' })).toEqual([
      'steps: only canary releases have steps (strategy is rolling)',
    ]);
    expect(parseScenario({ ...EXAMPLE, strategy: 'rolling', steps: undefined }).steps).toEqual([]);
  });

  it('releases only builds it knows, each once, never the one running at the start', () => {
    expect(problemsOf(withField(['releases'], ['v4']))).toEqual([
      "releases[0]: 'v4' is not one of versions (v1, v2, v3)",
    ]);
    expect(problemsOf(withField(['releases'], ['v1', 'v2']))).toEqual([
      "releases[0]: 'v1' is the build that runs at the start (first in versions)",
    ]);
    expect(problemsOf(withField(['releases'], ['v2', 'v2']))).toEqual([
      "releases[1]: 'v2' is released once only",
    ]);
    expect(problemsOf(withField(['releases'], []))).toEqual([
      'releases: must be a list of 1 to 10 version labels such as ["v2", "v3"]',
    ]);
    expect(problemsOf(withField(['versions'], { v1: EXAMPLE.versions.v1 }))[0]).toMatch(
      /^versions: must be an object of 2 to 10 builds/,
    );
    // JavaScript would list "2" before "v1": the order that says which build runs first would lie.
    expect(
      problemsOf({ ...EXAMPLE, versions: { v1: EXAMPLE.versions.v1, 2: EXAMPLE.versions.v2 } }),
    ).toContain('versions.2: a version label must not be a plain number (write v2)');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({ ...EXAMPLE, rps: 0, stepSeconds: 0 });
    expect(problems).toEqual([
      'rps: must be between 1 and 1000 (got 0)',
      'stepSeconds: must be between 1 and 3600 (got 0)',
    ]);
  });
});

describe('demo builds', () => {
  it("turns p50 and p99 into the sample service's median and log-normal spread", () => {
    const profile = fleetProfile({ errorRate: 0.02, latencyMs: { p50: 40, p99: 120 } });
    expect(profile.errorRate).toBe(0.02);
    expect(profile.latencyMs).toBe(40);
    // The sample service draws latency = median × e^(spread × N(0,1)); N's 99th percentile is 2.326.
    expect(40 * Math.exp(profile.latencySpread * 2.3263)).toBeCloseTo(120, 1);
    expect(fleetProfile({ errorRate: 0, latencyMs: { p50: 8, p99: 8 } }).latencySpread).toBe(0);
  });

  it('names each build by a digest of its label and behaviour', () => {
    const v1 = EXAMPLE.versions.v1;
    expect(digestOf('v1', v1)).toMatch(new RegExp(DIGEST_PATTERN));
    expect(digestOf('v1', v1)).toBe(digestOf('v1', structuredClone(v1)));
    expect(digestOf('v1', v1)).not.toBe(digestOf('v2', v1));
    expect(digestOf('v1', v1)).not.toBe(digestOf('v1', { ...v1, errorRate: 0.5 }));
    const profiles = fleetProfiles(parseScenario(EXAMPLE));
    expect(Object.keys(profiles)).toHaveLength(3);
    expect(profiles[digestOf('v2', EXAMPLE.versions.v2)]?.errorRate).toBe(0.05);
  });
});
