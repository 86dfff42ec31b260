import { compileConstraint, describeConstraint, type ContextPredicate } from './constraints';
import {
  DEFAULT_ENVIRONMENTS,
  DEFAULT_STICKINESS,
  type Constraint,
  type FlagDefinition,
  type FlagEnvironment,
  type Prerequisite,
  type Rule,
  type RulesetDefinition,
  type Segment,
  type Variant,
} from './model';
import { validateRuleset, type ValidationError } from './validation';

/** A constraint ready to test, remembering which segment (if any) it came from. */
export interface CompiledConstraint {
  readonly constraint: Constraint;
  readonly segment?: string;
  readonly test: ContextPredicate;
}

export interface CompiledRule {
  readonly index: number;
  readonly id?: string;
  readonly serve: boolean;
  readonly rollout?: number;
  readonly variant?: string;
  /** The rule's own constraints, then its segments' constraints; all must hold. */
  readonly constraints: readonly CompiledConstraint[];
  /** "Rule 2 ("beta") matched: …", written once here rather than on every evaluation. */
  readonly matchDescription: string;
}

export interface CompiledEnvironment {
  readonly enabled: boolean;
  readonly stickiness: string;
  readonly targetAttribute: string;
  readonly allow: ReadonlySet<string>;
  readonly deny: ReadonlySet<string>;
  readonly rules: readonly CompiledRule[];
  readonly rollout?: { readonly percentage: number; readonly groupId: string };
  readonly defaultServe: boolean;
  readonly variants: readonly Variant[];
}

export interface CompiledFlag {
  readonly definition: FlagDefinition;
  readonly prerequisites: readonly Prerequisite[];
  readonly environments: ReadonlyMap<string, CompiledEnvironment>;
}

/**
 * A validated ruleset, compiled for evaluation: lookups by key, constraint values parsed once.
 * Only `buildRuleset` makes one, so every Ruleset is known to be free of prerequisite cycles.
 */
export class Ruleset {
  readonly version: number;
  readonly environments: readonly string[];
  private readonly flags: ReadonlyMap<string, CompiledFlag>;

  private constructor(readonly definition: RulesetDefinition) {
    this.version = definition.version;
    this.environments = definition.environments ?? DEFAULT_ENVIRONMENTS;
    const segments = new Map((definition.segments ?? []).map((s) => [s.key, s]));
    this.flags = new Map(definition.flags.map((flag) => [flag.key, compileFlag(flag, segments)]));
  }

  /**
   * Validate, then compile. The ruleset keeps a frozen JSON copy of its input, so changing the
   * caller's object later cannot change what this version evaluates.
   */
  static build(input: unknown): BuildRulesetResult {
    const copy = jsonCopy(input);
    if (copy === undefined) {
      return { ok: false, errors: [notJson()] };
    }
    const errors = validateRuleset(copy);
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, ruleset: new Ruleset(deepFreeze(copy) as RulesetDefinition) };
  }

  flag(key: string): CompiledFlag | undefined {
    return this.flags.get(key);
  }

  hasEnvironment(name: string): boolean {
    return this.environments.includes(name);
  }
}

export type BuildRulesetResult =
  | { readonly ok: true; readonly ruleset: Ruleset }
  | { readonly ok: false; readonly errors: readonly ValidationError[] };

/** Validate, then compile; an invalid definition (a cycle, an unknown segment…) is refused. */
export function buildRuleset(input: unknown): BuildRulesetResult {
  return Ruleset.build(input);
}

function jsonCopy(input: unknown): unknown {
  try {
    const text = JSON.stringify(input);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined; // cyclic or BigInt: not JSON
  }
}

function notJson(): ValidationError {
  return { path: '', code: 'invalid_type', message: 'a ruleset must be plain JSON data' };
}

function deepFreeze(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

type Segments = ReadonlyMap<string, Segment>;

function compileFlag(flag: FlagDefinition, segments: Segments): CompiledFlag {
  const environments = new Map(
    Object.entries(flag.environments).map(([name, environment]) => [
      name,
      compileEnvironment(flag.key, environment, segments),
    ]),
  );
  return { definition: flag, prerequisites: flag.prerequisites ?? [], environments };
}

function compileEnvironment(
  flagKey: string,
  environment: FlagEnvironment,
  segments: Segments,
): CompiledEnvironment {
  const rollout = environment.rollout;
  return {
    enabled: environment.enabled,
    stickiness: environment.stickiness ?? DEFAULT_STICKINESS,
    targetAttribute: environment.targets?.attribute ?? 'userId',
    allow: new Set(environment.targets?.allow ?? []),
    deny: new Set(environment.targets?.deny ?? []),
    rules: (environment.rules ?? []).map((rule, index) => compileRule(rule, index, segments)),
    rollout: rollout && { percentage: rollout.percentage, groupId: rollout.groupId ?? flagKey },
    defaultServe: environment.defaultServe ?? false,
    variants: environment.variants ?? [],
  };
}

function compileRule(rule: Rule, index: number, segments: Segments): CompiledRule {
  const own = rule.constraints.map((constraint) => compiled(constraint));
  const fromSegments = (rule.segments ?? []).flatMap((key) =>
    (segments.get(key)?.constraints ?? []).map((constraint) => compiled(constraint, key)),
  );
  const constraints = [...own, ...fromSegments];
  return {
    index,
    id: rule.id,
    serve: rule.serve ?? true,
    rollout: rule.rollout,
    variant: rule.variant,
    constraints,
    matchDescription: describeMatch(index, rule.id, constraints),
  };
}

function describeMatch(index: number, id: string | undefined, constraints: CompiledConstraint[]) {
  const name = id ? `Rule ${index} ("${id}")` : `Rule ${index}`;
  if (constraints.length === 0) return `${name} matches every context`;
  const tests = constraints.map(({ constraint, segment }) =>
    segment
      ? `segment "${segment}": ${describeConstraint(constraint)}`
      : describeConstraint(constraint),
  );
  return `${name} matched: ${tests.join(' and ')}`;
}

function compiled(constraint: Constraint, segment?: string): CompiledConstraint {
  return { constraint, segment, test: compileConstraint(constraint) };
}
