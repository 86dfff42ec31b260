import type { FlagDefinition, RulesetDefinition } from '@rollgate/flags-domain';

/** Flags that exercise every OpenFeature reason, variants with payloads of each type, and a rule. */
const createdAt = '2026-01-01T00:00:00Z';

export const simpleFlag: FlagDefinition = {
  key: 'simple',
  type: 'release',
  createdAt,
  environments: { production: { enabled: true, defaultServe: true } },
};

/** The bench's "rule + 50% rollout" flag: country IN [NO, SE, US], then half of them by userId. */
export const checkoutFlag: FlagDefinition = {
  key: 'new-checkout',
  type: 'release',
  createdAt,
  environments: {
    production: {
      enabled: true,
      rules: [
        {
          id: 'nordics-and-us',
          constraints: [{ attribute: 'country', operator: 'IN', values: ['NO', 'SE', 'US'] }],
          rollout: 50,
        },
      ],
    },
  },
};

export const rolloutFlag: FlagDefinition = {
  key: 'half',
  type: 'experiment',
  createdAt,
  environments: { production: { enabled: true, rollout: { percentage: 50 } } },
};

export const bannerFlag: FlagDefinition = {
  key: 'banner',
  type: 'experiment',
  createdAt,
  environments: {
    production: {
      enabled: true,
      defaultServe: true,
      variants: [
        { name: 'blue', weight: 500, payload: '#0000ff' },
        { name: 'red', weight: 500, payload: '#ff0000' },
      ],
    },
  },
};

export const limitFlag: FlagDefinition = {
  key: 'upload-limit',
  type: 'operational',
  createdAt,
  environments: {
    production: {
      enabled: true,
      defaultServe: true,
      variants: [{ name: 'large', weight: 1000, payload: 50 }],
    },
  },
};

export const layoutFlag: FlagDefinition = {
  key: 'layout',
  type: 'experiment',
  createdAt,
  environments: {
    production: {
      enabled: true,
      defaultServe: true,
      variants: [{ name: 'grid', weight: 1000, payload: { columns: 3, dense: true } }],
    },
  },
};

export const killedFlag: FlagDefinition = {
  key: 'killed',
  type: 'kill-switch',
  createdAt,
  environments: { production: { enabled: false, defaultServe: true } },
};

export const betaFlag: FlagDefinition = {
  key: 'beta',
  type: 'permission',
  createdAt,
  environments: {
    production: {
      enabled: true,
      targets: { allow: ['alice'], deny: ['mallory'] },
      defaultServe: false,
    },
  },
};

export const fixtureFlags: readonly FlagDefinition[] = [
  simpleFlag,
  checkoutFlag,
  rolloutFlag,
  bannerFlag,
  limitFlag,
  layoutFlag,
  killedFlag,
  betaFlag,
];

export function fixtureRuleset(version = 1): RulesetDefinition {
  return { version, flags: fixtureFlags };
}

/** The same ruleset with one flag switched off in production (what a kill does). */
export function withKilled(flags: readonly FlagDefinition[], key: string): FlagDefinition[] {
  return flags.map((flag) =>
    flag.key !== key
      ? flag
      : {
          ...flag,
          environments: {
            ...flag.environments,
            production: { ...flag.environments['production']!, enabled: false },
          },
        },
  );
}
