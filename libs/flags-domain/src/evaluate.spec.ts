import fc from 'fast-check';
import { evaluate } from './evaluate';
import type { EvaluationContext, FlagDefinition, RulesetDefinition } from './model';
import { buildRuleset, Ruleset } from './ruleset';

const createdAt = '2026-01-05T10:00:00Z';

/** Buckets below are the published Unleash vectors for group "Feature.flexibleRollout.10":
 *  userId 174 → 10, 499 → 32, 2 → 17, 3 → 55; and variant buckets in group "gr1": 123 → 796,
 *  2 → 471. See test-vectors/bucketing.json and bucketing.spec.ts. */
const GROUP = 'Feature.flexibleRollout.10';

const flags: FlagDefinition[] = [
  {
    key: GROUP,
    type: 'release',
    createdAt,
    environments: {
      production: { enabled: true, rollout: { percentage: 10 } },
      staging: { enabled: false, rollout: { percentage: 100 } },
    },
  },
  {
    key: 'checkout-api',
    type: 'operational',
    createdAt,
    environments: {
      production: {
        enabled: true,
        defaultServe: true,
        rules: [
          {
            constraints: [{ attribute: 'region', operator: 'IN', values: ['mars'] }],
            serve: false,
          },
        ],
      },
    },
  },
  {
    key: 'new-checkout',
    type: 'release',
    owner: 'team-checkout',
    createdAt,
    prerequisites: [{ flag: 'checkout-api' }],
    environments: {
      production: {
        enabled: true,
        targets: { allow: ['alice'], deny: ['mallory'] },
        rules: [
          {
            id: 'staff',
            constraints: [
              { attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@rollgate.dev'] },
            ],
          },
          {
            id: 'old-apps',
            constraints: [{ attribute: 'appVersion', operator: 'SEMVER_LT', values: ['3.0.0'] }],
            serve: false,
          },
          { id: 'beta', constraints: [], segments: ['beta-testers'] },
        ],
        rollout: { percentage: 20, groupId: GROUP },
      },
      staging: { enabled: false, targets: { allow: ['alice'] } },
    },
  },
  {
    key: 'kill-payments',
    type: 'kill-switch',
    createdAt,
    environments: { production: { enabled: false, defaultServe: true } },
  },
  {
    key: 'gr1',
    type: 'experiment',
    createdAt,
    environments: {
      production: {
        enabled: true,
        defaultServe: true,
        rules: [
          {
            constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }],
            variant: 'red',
          },
        ],
        variants: [
          { name: 'blue', weight: 500, payload: { color: '#00f' } },
          { name: 'green', weight: 300 },
          { name: 'red', weight: 200 },
        ],
      },
    },
  },
  {
    key: 'green-banner',
    type: 'release',
    createdAt,
    prerequisites: [{ flag: 'gr1', variants: ['green'] }],
    environments: { production: { enabled: true, defaultServe: true } },
  },
  {
    key: 'only-when-killed',
    type: 'operational',
    createdAt,
    prerequisites: [{ flag: 'kill-payments', enabled: false }],
    environments: { production: { enabled: true, defaultServe: true } },
  },
  {
    key: 'nordic-ramp',
    type: 'release',
    createdAt,
    environments: {
      production: {
        enabled: true,
        rules: [
          {
            constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }],
            rollout: 20,
          },
        ],
        rollout: { percentage: 0, groupId: GROUP },
      },
    },
  },
  {
    key: 'by-tenant',
    type: 'permission',
    createdAt,
    environments: {
      production: {
        enabled: true,
        stickiness: 'tenantId',
        rollout: { percentage: 50, groupId: GROUP },
      },
    },
  },
];

const definition: RulesetDefinition = {
  version: 42,
  segments: [
    {
      key: 'beta-testers',
      constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'], caseInsensitive: true }],
    },
  ],
  flags,
};

function build(input: RulesetDefinition): Ruleset {
  const built = buildRuleset(input);
  if (!built.ok) throw new Error(`test setup: ${JSON.stringify(built.errors)}`);
  return built.ruleset;
}

const ruleset = build(definition);
const prod = (flagKey: string, context: EvaluationContext) =>
  evaluate(ruleset, flagKey, 'production', context);

describe('evaluation order', () => {
  describe('1. off', () => {
    it('serves off when the flag is switched off in the environment', () => {
      expect(evaluate(ruleset, GROUP, 'staging', { userId: '174' })).toEqual({
        flagKey: GROUP,
        environment: 'staging',
        enabled: false,
        reason: 'OFF',
        rulesetVersion: 42,
        explanation: `"${GROUP}" is switched off in staging.`,
      });
    });

    it('serves off in an environment the flag has no configuration for', () => {
      const result = evaluate(ruleset, GROUP, 'development', { userId: '174' });
      expect(result).toMatchObject({ enabled: false, reason: 'OFF' });
      expect(result.explanation).toContain('no configuration for development');
    });

    it('comes before everything: an allow-listed user still gets off', () => {
      expect(evaluate(ruleset, 'new-checkout', 'staging', { userId: 'alice' }).reason).toBe('OFF');
    });

    it('ignores defaultServe: a killed kill switch is off', () => {
      expect(prod('kill-payments', { userId: '1' })).toMatchObject({
        enabled: false,
        reason: 'OFF',
      });
    });
  });

  describe('2. prerequisites', () => {
    it('serve off when a prerequisite is off for this context', () => {
      const result = prod('new-checkout', { userId: 'alice', region: 'mars' });
      expect(result).toMatchObject({
        enabled: false,
        reason: 'PREREQUISITE_FAILED',
        prerequisiteKey: 'checkout-api',
      });
      expect(result.explanation).toBe(
        'Prerequisite "checkout-api" needs on but it is off (Rule 0 matched: region IN ["mars"]; serving off.); serving off.',
      );
    });

    it('come before targets: the allow list does not help when a prerequisite fails', () => {
      expect(prod('new-checkout', { userId: 'alice', region: 'mars' }).reason).toBe(
        'PREREQUISITE_FAILED',
      );
      expect(prod('new-checkout', { userId: 'alice', region: 'earth' }).reason).toBe(
        'TARGET_MATCH',
      );
    });

    it('can require a variant of the other flag', () => {
      expect(prod('green-banner', { userId: '123' })).toMatchObject({
        enabled: true,
        reason: 'DEFAULT',
      });
      const blue = prod('green-banner', { userId: '2' });
      expect(blue).toMatchObject({
        enabled: false,
        reason: 'PREREQUISITE_FAILED',
        prerequisiteKey: 'gr1',
      });
      expect(blue.explanation).toContain(
        'needs on with variant "green" but it is on with variant "blue"',
      );
    });

    it('can require the other flag to be off', () => {
      expect(prod('only-when-killed', { userId: '1' })).toMatchObject({
        enabled: true,
        reason: 'DEFAULT',
      });
    });

    it('fail when the other flag does not exist (guarding a ruleset built without validation)', () => {
      const unchecked = new (Ruleset as unknown as new (d: RulesetDefinition) => Ruleset)({
        version: 1,
        flags: [{ ...flags[1]!, prerequisites: [{ flag: 'gone' }] }],
      });
      const result = evaluate(unchecked, 'checkout-api', 'production', {});
      expect(result).toMatchObject({ reason: 'PREREQUISITE_FAILED', prerequisiteKey: 'gone' });
      expect(result.explanation).toContain('it does not exist');
    });

    it('report a cycle as an error instead of recursing forever', () => {
      const cyclic = new (Ruleset as unknown as new (d: RulesetDefinition) => Ruleset)({
        version: 1,
        flags: [
          { ...flags[1]!, key: 'a', prerequisites: [{ flag: 'b' }] },
          { ...flags[1]!, key: 'b', prerequisites: [{ flag: 'a' }] },
        ],
      });
      expect(evaluate(cyclic, 'a', 'production', {})).toMatchObject({
        enabled: false,
        reason: 'ERROR',
        errorCode: 'PREREQUISITE_CYCLE',
        explanation: 'Error: prerequisite cycle a → b → a.',
      });
    });
  });

  describe('3. individual targets', () => {
    it('serve on to the allow list', () => {
      expect(prod('new-checkout', { userId: 'alice' })).toMatchObject({
        enabled: true,
        reason: 'TARGET_MATCH',
        explanation: 'userId "alice" is on the allow list; serving on.',
      });
    });

    it('serve off to the deny list, even when a rule would match', () => {
      expect(prod('new-checkout', { userId: 'mallory', email: 'm@rollgate.dev' })).toMatchObject({
        enabled: false,
        reason: 'TARGET_MATCH',
        explanation: 'userId "mallory" is on the deny list; serving off.',
      });
    });

    it('come before rules: alice on an old app is still on', () => {
      expect(prod('new-checkout', { userId: 'alice', appVersion: '2.0.0' }).reason).toBe(
        'TARGET_MATCH',
      );
    });
  });

  describe('4. rules', () => {
    it('serve what the first matching rule serves, with its index', () => {
      expect(
        prod('new-checkout', { userId: '499', email: 'ana@rollgate.dev', appVersion: '2.0.0' }),
      ).toMatchObject({
        enabled: true,
        reason: 'RULE_MATCH',
        ruleIndex: 0,
        ruleId: 'staff',
        explanation: 'Rule 0 ("staff") matched: email STR_ENDS_WITH ["@rollgate.dev"]; serving on.',
      });
    });

    it('can serve off, and come before the rollout', () => {
      // userId 174 is in bucket 10, inside the 20% rollout, but rule 1 decides first.
      expect(prod('new-checkout', { userId: '174', appVersion: '2.9.9' })).toMatchObject({
        enabled: false,
        reason: 'RULE_MATCH',
        ruleIndex: 1,
      });
    });

    it('use reusable segments', () => {
      const result = prod('new-checkout', { userId: '499', plan: 'BETA' });
      expect(result).toMatchObject({ enabled: true, reason: 'RULE_MATCH', ruleIndex: 2 });
      expect(result.explanation).toBe(
        'Rule 2 ("beta") matched: segment "beta-testers": plan IN ["beta"] (ignoring case); serving on.',
      );
    });

    it('with a rollout, serve only that share of matching contexts; the others move on', () => {
      // Group "Feature.flexibleRollout.10": userId 174 → bucket 10 (in 20%), 499 → 32 (out).
      expect(prod('nordic-ramp', { userId: '174', country: 'NO' })).toMatchObject({
        enabled: true,
        reason: 'RULE_MATCH',
        ruleIndex: 0,
        bucket: 10,
      });
      expect(prod('nordic-ramp', { userId: '499', country: 'NO' })).toMatchObject({
        enabled: false,
        reason: 'DEFAULT',
        bucket: 32,
      });
      expect(prod('nordic-ramp', { userId: '174', country: 'SE' }).reason).toBe('DEFAULT');
    });
  });

  describe('5. percentage rollout', () => {
    it('serves on inside the percentage, with the bucket (Unleash vector: 174 → 10 at 10%)', () => {
      expect(prod(GROUP, { userId: '174' })).toEqual({
        flagKey: GROUP,
        environment: 'production',
        enabled: true,
        reason: 'SPLIT',
        bucket: 10,
        rulesetVersion: 42,
        explanation: `In bucket 10 of 100 (group "${GROUP}"), within the 10% rollout; serving on.`,
      });
    });

    it('leaves the rest to the default (Unleash vector: 499 → 32 at 10%)', () => {
      expect(prod(GROUP, { userId: '499' })).toMatchObject({
        enabled: false,
        reason: 'DEFAULT',
        bucket: 32,
        explanation: `In bucket 32 of 100 (group "${GROUP}"), outside the 10% rollout; serving the default, off.`,
      });
    });

    it('sticks by userId, then sessionId', () => {
      expect(prod(GROUP, { sessionId: '174' })).toMatchObject({ reason: 'SPLIT', bucket: 10 });
      expect(prod(GROUP, { userId: '499', sessionId: '174' })).toMatchObject({ bucket: 32 });
      expect(prod(GROUP, { userId: '', sessionId: '174' })).toMatchObject({ bucket: 10 });
    });

    it('keeps a context without a stickiness key out, unless the rollout is 100%', () => {
      expect(prod(GROUP, {})).toMatchObject({
        enabled: false,
        reason: 'DEFAULT',
        explanation:
          'No userId or sessionId to bucket by, so not in the 10% rollout; serving the default, off.',
      });
      const everyone = build({
        version: 1,
        flags: [
          {
            key: 'all',
            type: 'release',
            createdAt,
            environments: { production: { enabled: true, rollout: { percentage: 100 } } },
          },
        ],
      });
      expect(evaluate(everyone, 'all', 'production', {})).toMatchObject({
        enabled: true,
        reason: 'SPLIT',
      });
    });

    it('can stick by another attribute, and then ignores userId', () => {
      // tenantId "3" is bucket 55 and "2" is bucket 17 in the group: 50% takes only "2".
      expect(prod('by-tenant', { tenantId: '2', userId: '3' })).toMatchObject({
        enabled: true,
        bucket: 17,
      });
      expect(prod('by-tenant', { tenantId: '3', userId: '2' })).toMatchObject({
        enabled: false,
        bucket: 55,
      });
      expect(prod('by-tenant', { userId: '2' }).explanation).toContain('No tenantId to bucket by');
    });

    it('keeps every user who was in as the percentage grows, with the same bucket', () => {
      const at = (percentage: number) =>
        build({
          version: percentage,
          flags: [
            {
              key: 'ramp',
              type: 'release',
              createdAt,
              environments: { production: { enabled: true, rollout: { percentage } } },
            },
          ],
        });
      fc.assert(
        fc.property(fc.string({ minLength: 1 }), fc.nat(100), fc.nat(100), (userId, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const before = evaluate(at(low), 'ramp', 'production', { userId });
          const after = evaluate(at(high), 'ramp', 'production', { userId });
          expect(after.bucket).toBe(before.bucket);
          if (before.enabled) expect(after.enabled).toBe(true);
          expect([before.rulesetVersion, after.rulesetVersion]).toEqual([low, high]);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe('6. default', () => {
    it('serves defaultServe when no step decided', () => {
      expect(prod('checkout-api', { userId: '1' })).toMatchObject({
        enabled: true,
        reason: 'DEFAULT',
        explanation: 'No target or rule decided and there is no rollout; serving the default, on.',
      });
    });
  });
});

describe('variants', () => {
  it('are hashed per flag with the variant seed: gr1 user 123 → bucket 796 → green', () => {
    expect(prod('gr1', { userId: '123' })).toMatchObject({
      enabled: true,
      reason: 'DEFAULT',
      variant: { name: 'green' },
      explanation:
        'No target or rule decided and there is no rollout; serving the default, on. Variant "green": variant bucket 796 of 1000.',
    });
  });

  it('carry their payload', () => {
    expect(prod('gr1', { userId: '2' }).variant).toEqual({
      name: 'blue',
      payload: { color: '#00f' },
    });
  });

  it('can be set by a rule', () => {
    const result = prod('gr1', { userId: '123', country: 'NO' });
    expect(result).toMatchObject({ reason: 'RULE_MATCH', variant: { name: 'red' } });
    expect(result.explanation).toContain('Variant "red", set by the rule.');
  });

  it('are not given when the flag serves off', () => {
    expect(evaluate(ruleset, 'gr1', 'staging', { userId: '123' }).variant).toBeUndefined();
  });

  it('are not given without a stickiness key', () => {
    const result = prod('gr1', {});
    expect(result).toMatchObject({ enabled: true });
    expect(result.variant).toBeUndefined();
    expect(result.explanation).toContain('No userId or sessionId, so no variant.');
  });
});

describe('results', () => {
  it('name a missing flag', () => {
    expect(prod('nope', { userId: '1' })).toEqual({
      flagKey: 'nope',
      environment: 'production',
      enabled: false,
      reason: 'FLAG_NOT_FOUND',
      rulesetVersion: 42,
      explanation: 'No flag "nope" in ruleset version 42; serving off.',
    });
  });

  it('are errors for an unknown environment', () => {
    expect(evaluate(ruleset, GROUP, 'prod', { userId: '174' })).toMatchObject({
      enabled: false,
      reason: 'ERROR',
      errorCode: 'ENVIRONMENT_NOT_FOUND',
      rulesetVersion: 42,
    });
  });

  it('are errors, not exceptions, for a context that is not an object', () => {
    for (const context of [null, undefined, 'alice', 7, ['alice']]) {
      expect(
        evaluate(ruleset, GROUP, 'production', context as unknown as EvaluationContext),
      ).toMatchObject({
        enabled: false,
        reason: 'ERROR',
        errorCode: 'INVALID_CONTEXT',
      });
    }
  });

  it('never throw, and always carry the ruleset version', () => {
    const flagKey = fc.constantFrom(...flags.map((flag) => flag.key), 'missing');
    const environment = fc.constantFrom('production', 'staging', 'development', 'nowhere');
    fc.assert(
      fc.property(flagKey, environment, fc.anything(), (key, env, context) => {
        const result = evaluate(ruleset, key, env, context as EvaluationContext);
        expect(result.rulesetVersion).toBe(42);
        expect(result.explanation.length).toBeGreaterThan(0);
        if (result.reason === 'ERROR') expect(result.enabled).toBe(false);
      }),
    );
  });

  it('are the same for the same inputs', () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('NO', 'SE'), (userId, country) => {
        const context = { userId, country };
        expect(prod('nordic-ramp', context)).toEqual(prod('nordic-ramp', context));
        expect(prod('gr1', context)).toEqual(prod('gr1', context));
      }),
    );
  });
});
