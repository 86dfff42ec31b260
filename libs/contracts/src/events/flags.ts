import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

export type FlagType = 'release' | 'experiment' | 'operational' | 'kill-switch' | 'permission';

const FLAG_TYPE_ENUM = ['release', 'experiment', 'operational', 'kill-switch', 'permission'];
const FLAG_KEY = { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$' } as const;
const PROJECT = { type: 'string', minLength: 1 } as const;
const REASON = { type: 'string', minLength: 1 } as const;
/** The project's ruleset version after this event: the project stream's sequence number. */
const RULESET_VERSION = { type: 'integer', minimum: 1 } as const;
const INSTANT = { type: 'string', minLength: 1 } as const;
/** A flag's configuration in one environment (flags-domain `FlagEnvironment`), as JSON. */
const ENVIRONMENT_CONFIG = { type: 'object', required: [] } as const;

export interface FlagCreatedV1 {
  project: string;
  flagKey: string;
  flagType: FlagType;
  owner: string;
  description: string;
  /** Why it was created (added after v1 was first published, so optional). */
  reason?: string;
  rulesetVersion?: number;
  /** The owner's own expiry; absent: the default of the flag's type. */
  expiresAt?: string;
}

export const FlagCreatedV1 = defineEvent<FlagCreatedV1, 'FlagCreated'>({
  type: 'FlagCreated',
  version: 1,
  topic: TOPICS.flags,
  description: 'A feature flag was created (off in every environment).',
  schema: {
    type: 'object',
    properties: {
      project: { type: 'string', minLength: 1 },
      flagKey: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$' },
      flagType: {
        type: 'string',
        enum: ['release', 'experiment', 'operational', 'kill-switch', 'permission'],
      },
      owner: { type: 'string', minLength: 1 },
      description: { type: 'string' },
      reason: { ...REASON, nullable: true },
      rulesetVersion: { ...RULESET_VERSION, nullable: true },
      expiresAt: { ...INSTANT, nullable: true },
    },
    required: ['project', 'flagKey', 'flagType', 'owner', 'description'],
    additionalProperties: false,
  },
});

/** A project's settings: its environments and whether expired flags block releases. */
export interface FlagProjectConfiguredV1 {
  project: string;
  environments: string[];
  /** When true, an expired flag blocks new releases of the services that read it. */
  blockReleasesOnExpiredFlags: boolean;
  /**
   * The services that own the project: a token limited to some services may change the
   * project's flags only when it may touch one of them (docs/adr/0011-flag-ownership.md).
   * Absent on events written before ownership existed: no owner.
   */
  services?: string[];
  reason: string;
  rulesetVersion: number;
}

export const FlagProjectConfiguredV1 = defineEvent<
  FlagProjectConfiguredV1,
  'FlagProjectConfigured'
>({
  type: 'FlagProjectConfigured',
  version: 1,
  topic: TOPICS.flags,
  description: 'A flag project was created or its settings changed.',
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      environments: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      blockReleasesOnExpiredFlags: { type: 'boolean' },
      services: {
        type: 'array',
        items: { type: 'string', pattern: SERVICE_NAME_PATTERN },
        nullable: true,
      },
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: [
      'project',
      'environments',
      'blockReleasesOnExpiredFlags',
      'reason',
      'rulesetVersion',
    ],
    additionalProperties: false,
  },
});

/** Why a guard was overridden: recorded on the change it let through. */
export interface FlagGuardOverride {
  reason: string;
  /** The live instances that did not declare the flag when it was turned on. */
  instances: string[];
}

export interface FlagUpdatedV1 {
  project: string;
  flagKey: string;
  /** The environment changed; absent for a change of the flag itself (owner, prerequisites…). */
  environment?: string;
  /** What kind of change: rules (a whole environment), rollout, definition. */
  change: 'rules' | 'rollout' | 'definition';
  /** The environment configuration (or flag fields) before and after. */
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  reason: string;
  rulesetVersion: number;
  /** Set when the enablement guard refused and the actor forced it. */
  forced?: FlagGuardOverride;
}

export const FlagUpdatedV1 = defineEvent<FlagUpdatedV1, 'FlagUpdated'>({
  type: 'FlagUpdated',
  version: 1,
  topic: TOPICS.flags,
  description:
    "A flag's rules, rollout or definition changed; carries the configuration before and after.",
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      environment: { type: 'string', minLength: 1, nullable: true },
      change: { type: 'string', enum: ['rules', 'rollout', 'definition'] },
      before: ENVIRONMENT_CONFIG,
      after: ENVIRONMENT_CONFIG,
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
      forced: {
        type: 'object',
        properties: {
          reason: REASON,
          instances: { type: 'array', items: { type: 'string' } },
        },
        required: ['reason', 'instances'],
        additionalProperties: false,
        nullable: true,
      },
    },
    required: ['project', 'flagKey', 'change', 'before', 'after', 'reason', 'rulesetVersion'],
    additionalProperties: false,
  },
});

export interface FlagKilledV1 {
  project: string;
  flagKey: string;
  environment: string;
  /** The environment configuration before the kill (after: the same, with enabled false). */
  before: Record<string, unknown>;
  reason: string;
  rulesetVersion: number;
}

export const FlagKilledV1 = defineEvent<FlagKilledV1, 'FlagKilled'>({
  type: 'FlagKilled',
  version: 1,
  topic: TOPICS.flags,
  description: 'Kill switch: the flag was turned off in one environment; SDKs serve off.',
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      environment: { type: 'string', minLength: 1 },
      before: ENVIRONMENT_CONFIG,
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: ['project', 'flagKey', 'environment', 'before', 'reason', 'rulesetVersion'],
    additionalProperties: false,
  },
});

export interface FlagRetiredV1 {
  project: string;
  flagKey: string;
  /** The flag's definition when it was retired, for the audit trail. */
  before: Record<string, unknown>;
  reason: string;
  rulesetVersion: number;
}

export const FlagRetiredV1 = defineEvent<FlagRetiredV1, 'FlagRetired'>({
  type: 'FlagRetired',
  version: 1,
  topic: TOPICS.flags,
  description:
    'A flag was archived: it leaves the ruleset and its name is tombstoned, never to be reused.',
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      before: ENVIRONMENT_CONFIG,
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: ['project', 'flagKey', 'before', 'reason', 'rulesetVersion'],
    additionalProperties: false,
  },
});

export interface FlagExtendedV1 {
  project: string;
  flagKey: string;
  /** The expiry before (absent: the type's default, or never) and the new one. */
  expiresAtBefore?: string;
  expiresAt: string;
  reason: string;
  rulesetVersion: number;
}

export const FlagExtendedV1 = defineEvent<FlagExtendedV1, 'FlagExtended'>({
  type: 'FlagExtended',
  version: 1,
  topic: TOPICS.flags,
  description: "A flag's expiry date was moved; an expired flag stops blocking releases.",
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      expiresAtBefore: { ...INSTANT, nullable: true },
      expiresAt: INSTANT,
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: ['project', 'flagKey', 'expiresAt', 'reason', 'rulesetVersion'],
    additionalProperties: false,
  },
});

/** Flag debt noticed by the service's sweep: once per flag and condition (until extended). */
export interface FlagDebtDetectedV1 {
  project: string;
  flagKey: string;
  flagType: FlagType;
  /** potentially-stale: past its type's lifetime (a nag); expired: past its expiry (a gate). */
  condition: 'potentially-stale' | 'expired';
  /** When the condition began (from the flag's dates, not the clock of the sweep). */
  since: string;
  owner: string;
  reason: string;
  rulesetVersion: number;
}

export const FlagDebtDetectedV1 = defineEvent<FlagDebtDetectedV1, 'FlagDebtDetected'>({
  type: 'FlagDebtDetected',
  version: 1,
  topic: TOPICS.flags,
  description:
    'A flag became potentially stale or expired; an expired flag can block releases of the services that read it.',
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      flagType: { type: 'string', enum: FLAG_TYPE_ENUM as FlagType[] },
      condition: { type: 'string', enum: ['potentially-stale', 'expired'] },
      since: INSTANT,
      owner: { type: 'string', minLength: 1 },
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: [
      'project',
      'flagKey',
      'flagType',
      'condition',
      'since',
      'owner',
      'reason',
      'rulesetVersion',
    ],
    additionalProperties: false,
  },
});

/** A reusable, named list of constraints (flags-domain `Segment`) that rules refer to by key. */
export interface FlagSegmentDefinedV1 {
  project: string;
  segment: string;
  description?: string;
  /** flags-domain `Constraint` objects, all of which must hold. */
  constraints: Record<string, unknown>[];
  /** The constraints before (absent: a new segment). */
  before?: Record<string, unknown>[];
  reason: string;
  rulesetVersion: number;
}

export const FlagSegmentDefinedV1 = defineEvent<FlagSegmentDefinedV1, 'FlagSegmentDefined'>({
  type: 'FlagSegmentDefined',
  version: 1,
  topic: TOPICS.flags,
  description:
    'A segment was created or its constraints replaced; every rule that uses it follows.',
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      segment: FLAG_KEY,
      description: { type: 'string', nullable: true },
      constraints: { type: 'array', items: ENVIRONMENT_CONFIG },
      before: { type: 'array', items: ENVIRONMENT_CONFIG, nullable: true },
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: ['project', 'segment', 'constraints', 'reason', 'rulesetVersion'],
    additionalProperties: false,
  },
});

// ---- guarded rollout ---------------------------------------------------------------------------

/** Judges a guarded rollout may use (libs/judges). */
export type FlagRampJudge = 'sequential' | 'kayenta' | 'threshold';

const RAMP_JUDGE = { type: 'string', enum: ['sequential', 'kayenta', 'threshold'] } as const;
const PERCENTAGE = { type: 'integer', minimum: 0, maximum: 100 } as const;
const REASONS = { type: 'array', items: { type: 'string' } } as const;
const RAMP_VERDICT = { type: 'string', enum: ['PASS', 'MARGINAL', 'FAIL', 'NODATA'] } as const;

/** A guarded rollout began: the flag's rollout follows `steps`, each judged before the next. */
export interface FlagRampStartedV1 {
  project: string;
  flagKey: string;
  environment: string;
  rampId: string;
  /** Rollout percentages in order; the first is set now, the last is the goal. */
  steps: number[];
  stepSeconds: number;
  judge: FlagRampJudge;
  reason: string;
  rulesetVersion: number;
}

export const FlagRampStartedV1 = defineEvent<FlagRampStartedV1, 'FlagRampStarted'>({
  type: 'FlagRampStarted',
  version: 1,
  topic: TOPICS.flags,
  description:
    "A guarded rollout started: the flag's percentage ramps through its steps while a judge compares the flag-on cohort with the flag-off cohort.",
  schema: {
    type: 'object',
    properties: {
      project: PROJECT,
      flagKey: FLAG_KEY,
      environment: { type: 'string', minLength: 1 },
      rampId: { type: 'string', minLength: 1 },
      steps: { type: 'array', items: PERCENTAGE, minItems: 1 },
      stepSeconds: { type: 'integer', minimum: 1 },
      judge: RAMP_JUDGE,
      reason: REASON,
      rulesetVersion: RULESET_VERSION,
    },
    required: [
      'project',
      'flagKey',
      'environment',
      'rampId',
      'steps',
      'stepSeconds',
      'judge',
      'reason',
      'rulesetVersion',
    ],
    additionalProperties: false,
  },
});

/** One decision of a running guarded rollout, with the judge's verdict and reasons. */
export interface FlagRampDecisionV1 {
  project: string;
  flagKey: string;
  environment: string;
  rampId: string;
  /** Index of the step the decision is about, and its percentage. */
  step: number;
  percentage: number;
  /** The percentage the rollout is at after this decision. */
  percentageAfter: number;
  /** The judge's verdict; absent when no judge was asked (a cancellation). */
  verdict?: 'PASS' | 'MARGINAL' | 'FAIL' | 'NODATA';
  /** Why, most important first (the judge's reasons). */
  reasons: string[];
  /** Requests seen in the flag-on (canary) and flag-off (baseline) cohorts during the step. */
  onRequests: number;
  offRequests: number;
  rulesetVersion: number;
}

const rampDecisionSchema = {
  type: 'object',
  properties: {
    project: PROJECT,
    flagKey: FLAG_KEY,
    environment: { type: 'string', minLength: 1 },
    rampId: { type: 'string', minLength: 1 },
    step: { type: 'integer', minimum: 0 },
    percentage: PERCENTAGE,
    percentageAfter: PERCENTAGE,
    verdict: { ...RAMP_VERDICT, nullable: true },
    reasons: REASONS,
    onRequests: { type: 'integer', minimum: 0 },
    offRequests: { type: 'integer', minimum: 0 },
    rulesetVersion: RULESET_VERSION,
  },
  required: [
    'project',
    'flagKey',
    'environment',
    'rampId',
    'step',
    'percentage',
    'percentageAfter',
    'reasons',
    'onRequests',
    'offRequests',
    'rulesetVersion',
  ],
  additionalProperties: false,
} as const;

/** Every ramp decision carries the same evidence; only its meaning differs. */
const rampDecision = <T extends string>(type: T, description: string) =>
  defineEvent<FlagRampDecisionV1, T>({
    type,
    version: 1,
    topic: TOPICS.flags,
    description,
    schema: rampDecisionSchema,
  });

export type FlagRampStepPassedV1 = FlagRampDecisionV1;
export const FlagRampStepPassedV1 = rampDecision(
  'FlagRampStepPassed',
  'A guarded rollout step passed its judge: the rollout moves to the next percentage (FlagUpdated follows).',
);

export type FlagRampHeldV1 = FlagRampDecisionV1;
export const FlagRampHeldV1 = rampDecision(
  'FlagRampHeld',
  'A guarded rollout step ended without a conclusion (no data, or marginal): the rollout holds at its percentage and the judge keeps looking.',
);

export type FlagRampRevertedV1 = FlagRampDecisionV1;
export const FlagRampRevertedV1 = rampDecision(
  'FlagRampReverted',
  'The judge found a regression in the flag-on cohort: the rollout went back to 0% (FlagUpdated follows) and the ramp ended.',
);

export type FlagRampCompletedV1 = FlagRampDecisionV1;
export const FlagRampCompletedV1 = rampDecision(
  'FlagRampCompleted',
  'A guarded rollout reached its last step; the ramp ended.',
);

export type FlagRampCancelledV1 = FlagRampDecisionV1;
export const FlagRampCancelledV1 = rampDecision(
  'FlagRampCancelled',
  'A guarded rollout was stopped by a person, or ended because the flag was turned off, killed or its rollout changed by hand; the rollout stays where it is.',
);
