import fc from 'fast-check';
import type { FlagDefinition, RulesetDefinition } from './model';
import { buildRuleset } from './ruleset';
import {
  formatValidationError,
  validateFlag,
  validateRuleset,
  type ValidationError,
} from './validation';

const createdAt = '2026-01-05T10:00:00Z';

const validFlag = (overrides: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: 'new-checkout',
  type: 'release',
  createdAt,
  environments: {
    production: {
      enabled: true,
      rules: [
        { constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] },
        {
          constraints: [{ attribute: 'plan', operator: 'IN', values: ['pro'] }],
          segments: ['beta'],
        },
        {
          constraints: [
            { attribute: 'appVersion', operator: 'SEMVER_GT', values: ['2.0.0'] },
            { attribute: 'age', operator: 'NUM_GTE', values: ['18'] },
          ],
        },
      ],
      rollout: { percentage: 25 },
      variants: [
        { name: 'a', weight: 500 },
        { name: 'b', weight: 500 },
      ],
    },
  },
  ...overrides,
});

const ruleset = (flags: unknown[], extra: Record<string, unknown> = {}): unknown => ({
  version: 1,
  segments: [{ key: 'beta', constraints: [] }],
  flags,
  ...extra,
});

const messages = (errors: readonly ValidationError[]) => errors.map(formatValidationError);

/** A deep copy of a valid flag with one change, as untrusted JSON. */
// The changes write values of the wrong type on purpose, so the copy is untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withChange(change: (flag: Record<string, any>) => void): unknown {
  const flag = JSON.parse(JSON.stringify(validFlag()));
  change(flag);
  return flag;
}

describe('validateFlag', () => {
  const scope = { segments: ['beta'] };

  it('accepts a valid flag', () => {
    expect(validateFlag(validFlag(), scope)).toEqual([]);
  });

  it('names the field of an unknown operator', () => {
    const flag = withChange(
      (f) => (f.environments.production.rules[2].constraints[0].operator = 'between'),
    );
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[2].constraints[0].operator: unknown operator "between"',
    ]);
    expect(validateFlag(flag, scope)[0]!.code).toBe('unknown_operator');
  });

  it('refuses a bad semantic version', () => {
    const flag = withChange(
      (f) => (f.environments.production.rules[2].constraints[0].values = ['2.0']),
    );
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[2].constraints[0].values[0]: "2.0" is not a semantic version (MAJOR.MINOR.PATCH[-prerelease][+build])',
    ]);
  });

  it('refuses a bad number and a date without a zone', () => {
    const flag = withChange((f) => {
      f.environments.production.rules[2].constraints[1].values = ['18', 'eighteen'];
      f.environments.production.rules[0].constraints.push({
        attribute: 'currentTime',
        operator: 'DATE_AFTER',
        values: ['2026-03-01T09:00:00'],
      });
    });
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[0].constraints[1].values[0]: "2026-03-01T09:00:00" is not an ISO 8601 date, or date-time with a time zone',
      'environments.production.rules[2].constraints[1].values[1]: "eighteen" is not a number',
    ]);
  });

  it('refuses caseInsensitive on an operator that does not compare text', () => {
    const flag = withChange(
      (f) => (f.environments.production.rules[2].constraints[1].caseInsensitive = true),
    );
    expect(validateFlag(flag, scope).map((e) => e.path)).toEqual([
      'environments.production.rules[2].constraints[1].caseInsensitive',
    ]);
  });

  it('refuses a constraint without values', () => {
    const flag = withChange((f) => (f.environments.production.rules[0].constraints[0].values = []));
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[0].constraints[0].values: must not be empty',
    ]);
  });

  it('refuses a rule without a constraints list, so a typo cannot match everyone', () => {
    const flag = withChange((f) => {
      f.environments.production.rules[0].contraints =
        f.environments.production.rules[0].constraints;
      delete f.environments.production.rules[0].constraints;
    });
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[0].contraints: unknown field',
      'environments.production.rules[0].constraints: must be a list (empty to match every context)',
    ]);
  });

  it('refuses an unknown segment', () => {
    expect(messages(validateFlag(validFlag(), { segments: [] }))).toEqual([
      'environments.production.rules[1].segments[0]: unknown segment "beta"',
    ]);
  });

  it.each([
    [-1, 'out_of_range'],
    [101, 'out_of_range'],
    [12.5, 'out_of_range'],
    ['50', 'invalid_type'],
  ])('refuses a rollout percentage of %j', (percentage, code) => {
    const flag = withChange((f) => (f.environments.production.rollout.percentage = percentage));
    const errors = validateFlag(flag, scope);
    expect(errors.map((e) => [e.path, e.code])).toEqual([
      ['environments.production.rollout.percentage', code],
    ]);
  });

  it('refuses a rule rollout outside 0..100', () => {
    const flag = withChange((f) => (f.environments.production.rules[0].rollout = 150));
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.rules[0].rollout: must be a whole number from 0 to 100; got 150',
    ]);
  });

  it('refuses variant weights that do not add up to 1000', () => {
    const flag = withChange((f) => (f.environments.production.variants[1].weight = 400));
    const errors = validateFlag(flag, scope);
    expect(messages(errors)).toEqual([
      'environments.production.variants: weights add up to 900; they must add up to 1000',
    ]);
    expect(errors[0]!.code).toBe('variant_weights');
  });

  it('refuses duplicate variants and a rule naming a variant that does not exist', () => {
    const flag = withChange((f) => {
      f.environments.production.variants[1].name = 'a';
      f.environments.production.rules[0].variant = 'c';
    });
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.variants[1].name: duplicate variant "a"',
      'environments.production.rules[0].variant: unknown variant "c"',
    ]);
  });

  it('refuses an unknown environment, type and missing createdAt', () => {
    const flag = withChange((f) => {
      f.environments.prod = f.environments.production;
      f.type = 'temporary';
      delete f.createdAt;
    });
    expect(messages(validateFlag(flag, scope))).toEqual([
      'type: unknown flag type "temporary" (one of release, experiment, operational, kill-switch, permission)',
      'createdAt: required',
      'environments.prod: unknown environment "prod" (known: development, staging, production)',
    ]);
  });

  it('refuses random stickiness, which a pure evaluation cannot honour', () => {
    const flag = withChange((f) => (f.environments.production.stickiness = 'random'));
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.stickiness: "random" stickiness is not supported: use "default" or an attribute name',
    ]);
  });

  it('refuses an expiry before creation', () => {
    const flag = validFlag({ expiresAt: '2026-01-01T00:00:00Z' });
    expect(messages(validateFlag(flag, scope))).toEqual(['expiresAt: must be after createdAt']);
  });

  it('refuses the same key on both the allow and the deny list', () => {
    const flag = withChange(
      (f) => (f.environments.production.targets = { allow: ['u1', 'u2'], deny: ['u2'] }),
    );
    expect(messages(validateFlag(flag, scope))).toEqual([
      'environments.production.targets.allow[1]: "u2" is also denied',
    ]);
  });

  it('refuses prerequisites on unknown flags, on itself, and those that close a cycle', () => {
    const others = [
      { key: 'a', prerequisites: [{ flag: 'b' }] },
      { key: 'b', prerequisites: [{ flag: 'new-checkout' }] },
    ];
    const flag = validFlag({
      prerequisites: [{ flag: 'a' }, { flag: 'ghost' }, { flag: 'new-checkout' }],
    });
    expect(messages(validateFlag(flag, { ...scope, flags: others }))).toEqual([
      'prerequisites[2].flag: a flag cannot be its own prerequisite',
      'prerequisites[0].flag: prerequisite cycle: new-checkout → a → b → new-checkout',
      'prerequisites[1].flag: unknown flag "ghost"',
    ]);
  });

  it('judges an update against the other flags, not against its own old version', () => {
    const oldVersion = { key: 'new-checkout', prerequisites: [{ flag: 'ghost' }] };
    const flag = validFlag({ prerequisites: [{ flag: 'a' }] });
    const errors = validateFlag(flag, { ...scope, flags: [oldVersion, { key: 'a' }] });
    expect(errors).toEqual([]);
  });

  it('reports wrong types instead of throwing', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        expect(Array.isArray(validateFlag(input, scope))).toBe(true);
      }),
    );
    expect(messages(validateFlag('flag', scope))).toEqual(['a flag must be an object']);
  });
});

describe('validateRuleset', () => {
  it('accepts a valid ruleset', () => {
    expect(validateRuleset(ruleset([validFlag()]))).toEqual([]);
  });

  it('prefixes paths with the flag index', () => {
    const flag = withChange(
      (f) => (f.environments.production.rules[2].constraints[0].operator = 'between'),
    );
    expect(messages(validateRuleset(ruleset([validFlag({ key: 'other' }), flag])))).toEqual([
      'flags[1].environments.production.rules[2].constraints[0].operator: unknown operator "between"',
    ]);
  });

  it('refuses a prerequisite cycle, naming it at every flag on it', () => {
    const a = validFlag({ key: 'a', prerequisites: [{ flag: 'b' }] });
    const b = validFlag({ key: 'b', prerequisites: [{ flag: 'c' }] });
    const c = validFlag({ key: 'c', prerequisites: [{ flag: 'a' }] });
    const d = validFlag({ key: 'd', prerequisites: [{ flag: 'a' }] });
    const errors = validateRuleset(ruleset([a, b, c, d]));
    expect(messages(errors)).toEqual([
      'flags[0].prerequisites[0].flag: prerequisite cycle: a → b → c → a',
      'flags[1].prerequisites[0].flag: prerequisite cycle: b → c → a → b',
      'flags[2].prerequisites[0].flag: prerequisite cycle: c → a → b → c',
    ]);
    expect(errors.every((e) => e.code === 'prerequisite_cycle')).toBe(true);
  });

  it('accepts chains and diamonds of prerequisites that have no cycle', () => {
    const top = validFlag({ key: 'top', prerequisites: [{ flag: 'left' }, { flag: 'right' }] });
    const left = validFlag({ key: 'left', prerequisites: [{ flag: 'base' }] });
    const right = validFlag({ key: 'right', prerequisites: [{ flag: 'base' }] });
    const base = validFlag({ key: 'base' });
    expect(validateRuleset(ruleset([top, left, right, base]))).toEqual([]);
  });

  it('refuses duplicate flag and segment keys', () => {
    const errors = validateRuleset(
      ruleset([validFlag(), validFlag()], {
        segments: [
          { key: 'beta', constraints: [] },
          { key: 'beta', constraints: [] },
        ],
      }),
    );
    expect(messages(errors)).toEqual([
      'segments[1].key: duplicate segment key "beta"',
      'flags[1].key: duplicate flag key "new-checkout" (also flags[0])',
    ]);
  });

  it('checks segment constraints too', () => {
    const errors = validateRuleset(
      ruleset([], {
        segments: [
          { key: 'beta', constraints: [{ attribute: 'x', operator: 'LIKE', values: ['y'] }] },
        ],
      }),
    );
    expect(messages(errors)).toEqual([
      'segments[0].constraints[0].operator: unknown operator "LIKE"',
    ]);
  });

  it('accepts custom environments and refuses flags configured outside them', () => {
    const flag = validFlag({
      environments: { production: { enabled: true }, eu: { enabled: true } },
    });
    expect(
      validateRuleset(ruleset([flag], { environments: ['eu', 'us'] })).map((e) => e.path),
    ).toEqual(['flags[0].environments.production']);
  });

  it('refuses a missing or negative version', () => {
    expect(messages(validateRuleset({ flags: [] }))).toEqual(['version: required']);
    expect(messages(validateRuleset({ version: -1, flags: [] }))).toEqual([
      'version: must be a whole number, 0 or more; got -1',
    ]);
  });
});

describe('buildRuleset', () => {
  it('refuses an invalid ruleset with its errors', () => {
    const a = validFlag({ key: 'a', prerequisites: [{ flag: 'a' }] });
    const built = buildRuleset(ruleset([a]));
    expect(built.ok).toBe(false);
    if (!built.ok) expect(built.errors.map((e) => e.code)).toEqual(['prerequisite_cycle']);
  });

  it('refuses input that is not JSON data', () => {
    const cyclic: Record<string, unknown> = { version: 1, flags: [] };
    cyclic.self = cyclic;
    const built = buildRuleset(cyclic);
    expect(built.ok ? [] : messages(built.errors)).toEqual(['a ruleset must be plain JSON data']);
  });

  it('keeps its own frozen copy, so later changes to the input change nothing', () => {
    const input = ruleset([validFlag()]) as RulesetDefinition & { flags: FlagDefinition[] };
    const built = buildRuleset(input);
    if (!built.ok) throw new Error('test setup');
    (input.flags[0]!.environments.production as { enabled: boolean }).enabled = false;
    expect(built.ruleset.flag('new-checkout')?.environments.get('production')?.enabled).toBe(true);
    expect(Object.isFrozen(built.ruleset.definition.flags[0])).toBe(true);
  });
});
