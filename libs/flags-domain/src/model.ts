/**
 * The flag model as it is stored and sent: plain JSON-shaped data. `validateRuleset` checks an
 * untrusted value against it; `buildRuleset` turns a valid one into something fast to evaluate.
 */

export const FLAG_TYPES = [
  'release',
  'experiment',
  'operational',
  'kill-switch',
  'permission',
] as const;
export type FlagType = (typeof FLAG_TYPES)[number];

export const DEFAULT_ENVIRONMENTS: readonly string[] = ['development', 'staging', 'production'];

export const STRING_OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
] as const;
export const NUMERIC_OPERATORS = ['NUM_EQ', 'NUM_LT', 'NUM_LTE', 'NUM_GT', 'NUM_GTE'] as const;
export const SEMVER_OPERATORS = ['SEMVER_EQ', 'SEMVER_LT', 'SEMVER_GT'] as const;
export const DATE_OPERATORS = ['DATE_BEFORE', 'DATE_AFTER'] as const;
export const OPERATORS = [
  ...STRING_OPERATORS,
  ...NUMERIC_OPERATORS,
  ...SEMVER_OPERATORS,
  ...DATE_OPERATORS,
] as const;
export type Operator = (typeof OPERATORS)[number];

/** "default" means userId, then sessionId (Unleash's default stickiness, minus its random fallback). */
export const DEFAULT_STICKINESS = 'default';

export type ContextValue = string | number | boolean;
/** Attributes of whoever asks: userId, sessionId, currentTime (ISO 8601) or anything else. */
export type EvaluationContext = Readonly<Record<string, ContextValue | null | undefined>>;

/**
 * One test of one context attribute. Matches when the attribute matches any of `values`
 * (NOT_IN: none of them). `inverted` negates a match; a missing attribute never matches.
 */
export interface Constraint {
  readonly attribute: string;
  readonly operator: Operator;
  readonly values: readonly string[];
  /** String operators only: compare lower-cased. */
  readonly caseInsensitive?: boolean;
  readonly inverted?: boolean;
}

/** A named, reusable list of constraints (all must hold), shared by rules of any flag. */
export interface Segment {
  readonly key: string;
  readonly description?: string;
  readonly constraints: readonly Constraint[];
}

/** Individual targets, by the value of one attribute (userId unless set). Deny wins over allow. */
export interface Targets {
  readonly attribute?: string;
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
}

/**
 * Serves `serve` when all its constraints and all its segments' constraints hold. With a
 * `rollout`, only that sticky percentage of matching contexts is served; the rest move on.
 */
export interface Rule {
  readonly id?: string;
  readonly description?: string;
  readonly constraints: readonly Constraint[];
  readonly segments?: readonly string[];
  /** What the rule serves; true unless set. */
  readonly serve?: boolean;
  readonly rollout?: number;
  /** Serve this variant instead of hashing one. */
  readonly variant?: string;
}

export interface Rollout {
  /** Whole percent, 0..100 (Unleash accepts only integers too). */
  readonly percentage: number;
  /** Buckets are per group: the flag key unless set; a shared group correlates flags. */
  readonly groupId?: string;
}

export type JsonValue =
  string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface Variant {
  readonly name: string;
  /** Out of VARIANT_WEIGHT_TOTAL (1000); the weights of a flag's variants add up to exactly that. */
  readonly weight: number;
  readonly payload?: JsonValue;
}

/** A prerequisite holds when the other flag, in the same environment, gives `enabled` (default true). */
export interface Prerequisite {
  readonly flag: string;
  readonly enabled?: boolean;
  /** When set, the other flag must also serve one of these variants. */
  readonly variants?: readonly string[];
}

/** A flag's configuration in one environment. */
export interface FlagEnvironment {
  /** The off switch: false serves off to everyone, before anything else is looked at. */
  readonly enabled: boolean;
  /** Which attribute keeps a context in its bucket: "default" (userId, then sessionId) or a name. */
  readonly stickiness?: string;
  readonly targets?: Targets;
  readonly rules?: readonly Rule[];
  readonly rollout?: Rollout;
  /** Served when no step decided; false unless set. */
  readonly defaultServe?: boolean;
  readonly variants?: readonly Variant[];
}

export interface FlagDefinition {
  readonly key: string;
  readonly type: FlagType;
  readonly owner?: string;
  readonly description?: string;
  /** ISO 8601 with a time zone; staleness and default expiry count from here. */
  readonly createdAt: string;
  /** ISO 8601 with a time zone; overrides the default expiry of the flag's type. */
  readonly expiresAt?: string;
  readonly prerequisites?: readonly Prerequisite[];
  readonly environments: Readonly<Record<string, FlagEnvironment>>;
}

export interface RulesetDefinition {
  /** Stamped on every evaluation result, so a replay can say which rules a user was judged by. */
  readonly version: number;
  /** Environment names; DEFAULT_ENVIRONMENTS unless set. */
  readonly environments?: readonly string[];
  readonly segments?: readonly Segment[];
  readonly flags: readonly FlagDefinition[];
}
