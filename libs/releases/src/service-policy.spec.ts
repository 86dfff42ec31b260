import {
  documentChanges,
  lowTrafficProblems,
  releaseSettings,
  validateServicePolicy,
  type ServicePolicy,
} from './index';

const policy = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'rollgate/v1',
  kind: 'ServicePolicy',
  service: 'checkout',
  owners: ['team-payments@example.com'],
  release: { strategy: 'canary', plan: { steps: [5, 25, 50], stepSeconds: 120, replicas: 3 } },
  analysis: { canaryConfig: 'shared-http' },
  flags: { expiredBlock: false },
  notifications: [{ url: 'https://hooks.example.com/rollgate', types: ['Release*'] }],
  lowTraffic: {
    minimumRequests: 50,
    maxWindowFactor: 3,
    raiseShare: { maxPercent: 50 },
    synthetic: { rps: 5, mix: [{ method: 'GET', path: '/health', weight: 1 }] },
    thresholdFallback: 'confirm',
  },
  ...overrides,
});

const fields = (value: unknown) => validateServicePolicy(value).problems.map((p) => p.field);

describe('validateServicePolicy', () => {
  it('accepts a complete policy and returns it', () => {
    const { policy: valid, problems } = validateServicePolicy(policy());
    expect(problems).toEqual([]);
    expect(valid?.service).toBe('checkout');
  });

  it('accepts the smallest policy: apiVersion, kind and service', () => {
    expect(
      fields({ apiVersion: 'rollgate/v1', kind: 'ServicePolicy', service: 'checkout' }),
    ).toEqual([]);
  });

  it('names the path of every problem', () => {
    const problems = validateServicePolicy(
      policy({
        kind: 'CanaryConfig',
        owners: ['ok', ''],
        release: { strategy: 'big-bang', plan: { steps: [5, 120], replicas: 0, surge: 1 } },
        flags: { expiredBlock: 'yes' },
        notifications: [{ url: 'ftp://x', types: ['Release*', 'no spaces'], format: 'xml' }],
        lowTraffic: {
          raiseShare: { maxPercent: 80 },
          synthetic: { rps: 0, mix: [{ method: 'FETCH', path: 'health', weight: 1 }] },
          thresholdFallback: 'ask',
          maxWindow: 3,
          maxWindowFactor: 4,
        },
        color: 'blue',
      }),
    ).problems;
    expect(problems.map((p) => p.field)).toEqual([
      'color',
      'kind',
      'owners[1]',
      'release.strategy',
      'release.plan.surge',
      'release.plan.replicas',
      'release.plan.steps[1]',
      'flags.expiredBlock',
      'notifications[0].url',
      'notifications[0].types[1]',
      'notifications[0].format',
      'lowTraffic.maxWindow',
      'lowTraffic.maxWindowFactor',
      'lowTraffic.raiseShare.maxPercent',
      'lowTraffic.synthetic.rps',
      'lowTraffic.synthetic.mix[0].method',
      'lowTraffic.synthetic.mix[0].path',
      'lowTraffic.thresholdFallback',
    ]);
    expect(problems.find((p) => p.field === 'release.strategy')?.problem).toBe(
      'must be one of rolling, blue-green, canary',
    );
  });

  it('holds the plan to the rules a release request meets, with policy paths', () => {
    expect(
      validateServicePolicy(policy({ release: { plan: { steps: [25, 10] } } })).problems,
    ).toEqual([{ field: 'release.plan.steps[1]', problem: 'weights must increase step by step' }]);
    expect(
      fields(
        policy({
          release: { strategy: 'rolling', plan: { replicas: 2, maxSurge: 0, maxUnavailable: 2 } },
        }),
      ),
    ).toEqual(['release.plan.maxUnavailable']);
  });

  it('checks the canary config reference, leaving an inline config to the analysis service', () => {
    expect(fields(policy({ analysis: { canaryConfig: 'Not A Name' } }))).toEqual([
      'analysis.canaryConfig',
    ]);
    expect(fields(policy({ analysis: { canaryConfig: 42 } }))).toEqual(['analysis.canaryConfig']);
    expect(fields(policy({ analysis: { canaryConfig: 'a', judge: {} } }))).toEqual([
      'analysis.judge',
    ]);
    expect(fields(policy({ analysis: { metrics: 'anything' } }))).toEqual([]);
  });

  it('refuses what is not a policy at all', () => {
    expect(fields('apiVersion: rollgate/v1')).toEqual(['policy']);
    expect(fields([policy()])).toEqual(['policy']);
    expect(fields(policy({ service: 'Checkout' }))).toEqual(['service']);
  });
});

describe('lowTrafficProblems', () => {
  it('uses the path it is given, so a release override is named as sent', () => {
    expect(lowTrafficProblems({ raiseShare: {} }, 'lowTraffic')).toEqual([
      { field: 'lowTraffic.raiseShare.maxPercent', problem: 'is required' },
    ]);
    expect(lowTrafficProblems(undefined)).toEqual([]);
  });
});

describe('releaseSettings', () => {
  const inForce = { version: 3, policy: policy() as unknown as ServicePolicy };

  it('takes every default from the policy and records its version', () => {
    expect(releaseSettings(inForce, {})).toEqual({
      strategy: 'canary',
      plan: { canarySteps: [5, 25, 50], stepSeconds: 120, replicas: 3 },
      canaryConfig: 'shared-http',
      lowTraffic: inForce.policy.lowTraffic,
      expiredFlagsBlock: false,
      owners: ['team-payments@example.com'],
      policy: { version: 3 },
    });
  });

  it('lets the request override field by field', () => {
    const settings = releaseSettings(inForce, {
      strategy: 'blue-green',
      plan: { stepSeconds: 30, replicas: undefined },
      canaryConfig: 'other',
      lowTraffic: { thresholdFallback: 'auto' },
      expiredFlagsBlock: true,
    });
    expect(settings).toMatchObject({
      strategy: 'blue-green',
      plan: { canarySteps: [5, 25, 50], stepSeconds: 30, replicas: 3 },
      canaryConfig: 'other',
      expiredFlagsBlock: true,
      policy: { version: 3 },
    });
    expect(settings.lowTraffic).toEqual({
      ...inForce.policy.lowTraffic,
      thresholdFallback: 'auto',
    });
  });

  it('names the service as the config when the policy carries an inline one', () => {
    const inline = {
      version: 1,
      policy: policy({ analysis: { metrics: [] } }) as unknown as ServicePolicy,
    };
    expect(releaseSettings(inline, {}).canaryConfig).toBe('checkout');
  });

  it('without a policy keeps the built-in defaults and records nothing', () => {
    expect(releaseSettings(null, {})).toEqual({
      strategy: 'canary',
      plan: {},
      expiredFlagsBlock: true,
    });
  });
});

describe('documentChanges', () => {
  it('lists added, removed and changed leaves with their paths', () => {
    const before = { release: { plan: { steps: [5, 25, 50], stepSeconds: 60 } }, owners: ['a'] };
    const after = { release: { plan: { steps: [10, 25] } }, owners: ['a'], flags: { x: true } };
    expect(documentChanges(before, after)).toEqual([
      { path: 'flags', change: 'added', after: { x: true } },
      { path: 'release.plan.stepSeconds', change: 'removed', before: 60 },
      { path: 'release.plan.steps[0]', change: 'changed', before: 5, after: 10 },
      { path: 'release.plan.steps[2]', change: 'removed', before: 50 },
    ]);
  });

  it('finds nothing between equal documents, whatever their key order', () => {
    expect(documentChanges({ a: 1, b: { c: [1] } }, { b: { c: [1] }, a: 1 })).toEqual([]);
  });
});
