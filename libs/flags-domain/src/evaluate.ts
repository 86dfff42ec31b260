import { isBucketInRollout, rolloutBucket, selectVariant, totalWeight } from './bucketing';
import {
  DEFAULT_STICKINESS,
  type EvaluationContext,
  type JsonValue,
  type Prerequisite,
} from './model';
import type { CompiledEnvironment, CompiledFlag, CompiledRule, Ruleset } from './ruleset';

export type EvaluationReason =
  | 'OFF'
  | 'PREREQUISITE_FAILED'
  | 'TARGET_MATCH'
  | 'RULE_MATCH'
  | 'SPLIT'
  | 'DEFAULT'
  | 'FLAG_NOT_FOUND'
  | 'ERROR';

export type EvaluationErrorCode =
  'ENVIRONMENT_NOT_FOUND' | 'INVALID_CONTEXT' | 'PREREQUISITE_CYCLE' | 'GENERAL';

export interface EvaluatedVariant {
  readonly name: string;
  readonly payload?: JsonValue;
}

export interface EvaluationResult {
  readonly flagKey: string;
  readonly environment: string;
  readonly enabled: boolean;
  readonly variant?: EvaluatedVariant;
  readonly reason: EvaluationReason;
  /** RULE_MATCH: which rule (0-based) decided. */
  readonly ruleIndex?: number;
  readonly ruleId?: string;
  /** The rollout bucket (1..100) when a percentage was looked at. */
  readonly bucket?: number;
  /** PREREQUISITE_FAILED: the flag that did not give what was needed. */
  readonly prerequisiteKey?: string;
  readonly errorCode?: EvaluationErrorCode;
  /** The ruleset version this result was computed from, for replay and audit. */
  readonly rulesetVersion: number;
  /** Why, in a sentence a person can read. */
  readonly explanation: string;
}

/** What one step decided, before the variant is attached. */
interface Decision {
  readonly enabled: boolean;
  readonly reason: EvaluationReason;
  readonly explanation: string;
  readonly ruleIndex?: number;
  readonly ruleId?: string;
  readonly bucket?: number;
  readonly prerequisiteKey?: string;
  readonly errorCode?: EvaluationErrorCode;
  readonly forcedVariant?: string;
}

/** A decision with its variant (if any) and the explanation of that variant. */
interface Outcome {
  readonly decision: Decision;
  readonly variant?: EvaluatedVariant;
  readonly explanation: string;
}

class PrerequisiteCycle extends Error {}

/**
 * Evaluate a flag for a context, in this order: off → prerequisites → individual targets →
 * rules (in order) → percentage rollout → default. Never throws: a bad context or an internal
 * failure gives `enabled: false` with reason ERROR and an error code.
 */
export function evaluate(
  ruleset: Ruleset,
  flagKey: string,
  environment: string,
  context: EvaluationContext,
): EvaluationResult {
  let outcome: Outcome;
  try {
    outcome = isContext(context)
      ? evaluateFlag(ruleset, flagKey, environment, context, NO_CHAIN)
      : plain(failure('INVALID_CONTEXT', 'the context is not an object'));
  } catch (error) {
    outcome = plain(
      error instanceof PrerequisiteCycle
        ? failure('PREREQUISITE_CYCLE', error.message)
        : failure('GENERAL', `evaluation failed: ${String(error)}`),
    );
  }
  return toResult(ruleset.version, flagKey, environment, outcome);
}

const NO_CHAIN: readonly string[] = [];

/** Only the optional fields that apply, so results compare and serialise cleanly. */
function toResult(
  rulesetVersion: number,
  flagKey: string,
  environment: string,
  { decision, variant, explanation }: Outcome,
): EvaluationResult {
  const result: { -readonly [K in keyof EvaluationResult]: EvaluationResult[K] } = {
    flagKey,
    environment,
    enabled: decision.enabled,
    reason: decision.reason,
    rulesetVersion,
    explanation,
  };
  if (variant !== undefined) result.variant = variant;
  if (decision.ruleIndex !== undefined) result.ruleIndex = decision.ruleIndex;
  if (decision.ruleId !== undefined) result.ruleId = decision.ruleId;
  if (decision.bucket !== undefined) result.bucket = decision.bucket;
  if (decision.prerequisiteKey !== undefined) result.prerequisiteKey = decision.prerequisiteKey;
  if (decision.errorCode !== undefined) result.errorCode = decision.errorCode;
  return result;
}

function plain(decision: Decision): Outcome {
  return { decision, explanation: decision.explanation };
}

function failure(errorCode: EvaluationErrorCode, explanation: string): Decision {
  return { enabled: false, reason: 'ERROR', errorCode, explanation: `Error: ${explanation}.` };
}

function isContext(context: unknown): context is EvaluationContext {
  return typeof context === 'object' && context !== null && !Array.isArray(context);
}

function evaluateFlag(
  ruleset: Ruleset,
  flagKey: string,
  environmentName: string,
  context: EvaluationContext,
  chain: readonly string[],
): Outcome {
  const flag = ruleset.flag(flagKey);
  if (!flag) {
    const explanation = `No flag "${flagKey}" in ruleset version ${ruleset.version}; serving off.`;
    return plain({ enabled: false, reason: 'FLAG_NOT_FOUND', explanation });
  }
  if (!ruleset.hasEnvironment(environmentName)) {
    return plain(failure('ENVIRONMENT_NOT_FOUND', `no environment "${environmentName}"`));
  }
  const environment = flag.environments.get(environmentName);
  if (!environment?.enabled) return plain(off(flagKey, environmentName, environment));
  const decision =
    (flag.prerequisites.length > 0
      ? failedPrerequisite(ruleset, flag, environmentName, context, [...chain, flagKey])
      : undefined) ?? decide(flagKey, environment, context);
  return withVariant(decision, flagKey, environment, context);
}

function off(flagKey: string, environmentName: string, environment?: CompiledEnvironment) {
  const why = environment
    ? `"${flagKey}" is switched off in ${environmentName}`
    : `"${flagKey}" has no configuration for ${environmentName}, so it is off`;
  return { enabled: false, reason: 'OFF', explanation: `${why}.` } as const;
}

// ---- prerequisites ---------------------------------------------------------------------------

function failedPrerequisite(
  ruleset: Ruleset,
  flag: CompiledFlag,
  environmentName: string,
  context: EvaluationContext,
  chain: readonly string[],
): Decision | undefined {
  for (const prerequisite of flag.prerequisites) {
    if (chain.includes(prerequisite.flag)) {
      // buildRuleset refuses cycles; this guards a ruleset built some other way.
      throw new PrerequisiteCycle(
        `prerequisite cycle ${[...chain, prerequisite.flag].join(' → ')}`,
      );
    }
    const parent = evaluateFlag(ruleset, prerequisite.flag, environmentName, context, chain);
    if (!prerequisiteHolds(prerequisite, parent.decision, parent.variant)) {
      const explanation =
        `Prerequisite "${prerequisite.flag}" needs ${wanted(prerequisite)} but ` +
        `${parentGave(parent)} (${parent.explanation}); serving off.`;
      return {
        enabled: false,
        reason: 'PREREQUISITE_FAILED',
        prerequisiteKey: prerequisite.flag,
        explanation,
      };
    }
  }
  return undefined;
}

function prerequisiteHolds(
  prerequisite: Prerequisite,
  parent: Decision,
  variant: EvaluatedVariant | undefined,
): boolean {
  if (parent.reason === 'ERROR' || parent.reason === 'FLAG_NOT_FOUND') return false;
  if (parent.enabled !== (prerequisite.enabled ?? true)) return false;
  if (!prerequisite.variants) return true;
  return variant !== undefined && prerequisite.variants.includes(variant.name);
}

function wanted(prerequisite: Prerequisite): string {
  const state = (prerequisite.enabled ?? true) ? 'on' : 'off';
  const variants = prerequisite.variants?.map((name) => `"${name}"`).join(' or ');
  return variants ? `${state} with variant ${variants}` : state;
}

function parentGave({ decision, variant }: Outcome): string {
  if (decision.reason === 'FLAG_NOT_FOUND') return 'it does not exist';
  if (decision.reason === 'ERROR') return 'it could not be evaluated';
  const withVariant = variant ? ` with variant "${variant.name}"` : '';
  return `it is ${decision.enabled ? 'on' : 'off'}${withVariant}`;
}

// ---- targets, rules, rollout, default --------------------------------------------------------

function decide(flagKey: string, environment: CompiledEnvironment, context: EvaluationContext) {
  return (
    matchTargets(environment, context) ??
    matchRules(flagKey, environment, context) ??
    rolloutOrDefault(flagKey, environment, context)
  );
}

function matchTargets(environment: CompiledEnvironment, context: EvaluationContext) {
  if (environment.allow.size === 0 && environment.deny.size === 0) return undefined;
  const key = stickyValue(context[environment.targetAttribute]);
  if (key === undefined) return undefined;
  const who = `${environment.targetAttribute} "${key}"`;
  if (environment.deny.has(key)) return targetMatch(false, `${who} is on the deny list`);
  if (environment.allow.has(key)) return targetMatch(true, `${who} is on the allow list`);
  return undefined;
}

function targetMatch(enabled: boolean, why: string): Decision {
  return { enabled, reason: 'TARGET_MATCH', explanation: `${why}; ${serving(enabled)}.` };
}

function matchRules(
  flagKey: string,
  environment: CompiledEnvironment,
  context: EvaluationContext,
): Decision | undefined {
  for (const rule of environment.rules) {
    if (!allHold(rule, context)) continue;
    if (rule.rollout === undefined) return ruleMatch(rule, rule.matchDescription);
    const bucket = bucketOf(flagKey, environment, context);
    if (bucket !== undefined && isBucketInRollout(bucket, rule.rollout)) {
      const why = `${rule.matchDescription}, and bucket ${bucket} is within its ${rule.rollout}% rollout`;
      return ruleMatch(rule, why, bucket);
    }
    // Matched, but outside the rule's rollout: later steps decide, as with Unleash strategies.
  }
  return undefined;
}

function allHold(rule: CompiledRule, context: EvaluationContext): boolean {
  for (const { test } of rule.constraints) if (!test(context)) return false;
  return true;
}

function ruleMatch(rule: CompiledRule, why: string, bucket?: number): Decision {
  return {
    enabled: rule.serve,
    reason: 'RULE_MATCH',
    ruleIndex: rule.index,
    ruleId: rule.id,
    forcedVariant: rule.variant,
    bucket,
    explanation: `${why}; ${serving(rule.serve)}.`,
  };
}

function rolloutOrDefault(
  flagKey: string,
  environment: CompiledEnvironment,
  context: EvaluationContext,
): Decision {
  const rollout = environment.rollout;
  if (!rollout) return toDefault(environment, 'No target or rule decided and there is no rollout');
  const bucket = bucketOf(flagKey, environment, context);
  if (bucket === undefined) {
    if (rollout.percentage === 100) {
      return split('No stickiness key, but a 100% rollout includes everyone');
    }
    const why = `No ${stickinessName(environment)} to bucket by, so not in the ${rollout.percentage}% rollout`;
    return toDefault(environment, why);
  }
  const where = `bucket ${bucket} of 100 (group "${rollout.groupId}")`;
  if (isBucketInRollout(bucket, rollout.percentage)) {
    return split(`In ${where}, within the ${rollout.percentage}% rollout`, bucket);
  }
  return toDefault(environment, `In ${where}, outside the ${rollout.percentage}% rollout`, bucket);
}

function toDefault(environment: CompiledEnvironment, why: string, bucket?: number): Decision {
  const value = environment.defaultServe ? 'on' : 'off';
  return {
    enabled: environment.defaultServe,
    reason: 'DEFAULT',
    bucket,
    explanation: `${why}; serving the default, ${value}.`,
  };
}

/** Only ever "in": whoever the rollout leaves out falls through to the default. */
function split(why: string, bucket?: number): Decision {
  return { enabled: true, reason: 'SPLIT', bucket, explanation: `${why}; serving on.` };
}

const serving = (enabled: boolean) => (enabled ? 'serving on' : 'serving off');

// ---- stickiness and variants -----------------------------------------------------------------

/** The rollout bucket, in the flag-level rollout group (the flag key unless set). */
function bucketOf(flagKey: string, environment: CompiledEnvironment, context: EvaluationContext) {
  const key = stickinessKey(environment.stickiness, context);
  if (key === undefined) return undefined;
  return rolloutBucket(environment.rollout?.groupId ?? flagKey, key);
}

/** Unleash's default stickiness is userId, then sessionId, then random; we have no random. */
export function stickinessKey(stickiness: string, context: EvaluationContext): string | undefined {
  if (stickiness === DEFAULT_STICKINESS) {
    return stickyValue(context.userId) ?? stickyValue(context.sessionId);
  }
  return stickyValue(context[stickiness]);
}

function stickyValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function stickinessName(environment: CompiledEnvironment): string {
  return environment.stickiness === DEFAULT_STICKINESS
    ? 'userId or sessionId'
    : environment.stickiness;
}

function withVariant(
  decision: Decision,
  flagKey: string,
  environment: CompiledEnvironment,
  context: EvaluationContext,
): Outcome {
  if (!decision.enabled || environment.variants.length === 0) return plain(decision);
  const forced = decision.forcedVariant;
  if (forced !== undefined) {
    const variant = environment.variants.find((candidate) => candidate.name === forced);
    const explanation = `${decision.explanation} Variant "${forced}", set by the rule.`;
    if (variant) return { decision, variant: asEvaluated(variant), explanation };
  }
  const key = stickinessKey(environment.stickiness, context);
  if (key === undefined) {
    const note = ` No ${stickinessName(environment)}, so no variant.`;
    return { decision, explanation: decision.explanation + note };
  }
  const selected = selectVariant(environment.variants, flagKey, key);
  if (!selected) return plain(decision);
  const total = totalWeight(environment.variants);
  const note = ` Variant "${selected.variant.name}": variant bucket ${selected.bucket} of ${total}.`;
  return {
    decision,
    variant: asEvaluated(selected.variant),
    explanation: decision.explanation + note,
  };
}

function asEvaluated(variant: { name: string; payload?: JsonValue }): EvaluatedVariant {
  return variant.payload === undefined
    ? { name: variant.name }
    : { name: variant.name, payload: variant.payload };
}
