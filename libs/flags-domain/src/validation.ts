import { VARIANT_WEIGHT_TOTAL } from './bucketing';
import {
  DATE_OPERATORS,
  DEFAULT_ENVIRONMENTS,
  FLAG_TYPES,
  NUMERIC_OPERATORS,
  OPERATORS,
  SEMVER_OPERATORS,
  STRING_OPERATORS,
  type FlagDefinition,
  type Operator,
} from './model';
import { parseSemver } from './semver';
import { parseIsoInstant, parseNumber } from './values';

export type ValidationErrorCode =
  | 'required'
  | 'invalid_type'
  | 'unknown_field'
  | 'invalid_value'
  | 'unknown_operator'
  | 'out_of_range'
  | 'duplicate'
  | 'unknown_environment'
  | 'unknown_segment'
  | 'unknown_flag'
  | 'unknown_variant'
  | 'variant_weights'
  | 'prerequisite_cycle';

/** One problem, with the path of the field at fault, e.g. `rules[2].constraints[0].operator`. */
export interface ValidationError {
  readonly path: string;
  readonly code: ValidationErrorCode;
  readonly message: string;
}

export function formatValidationError(error: ValidationError): string {
  return error.path ? `${error.path}: ${error.message}` : error.message;
}

/** What a single flag is checked against: the rest of its ruleset. */
export interface FlagValidationScope {
  /** DEFAULT_ENVIRONMENTS unless set. */
  readonly environments?: readonly string[];
  /** Keys of the segments rules may use. */
  readonly segments?: readonly string[];
  /** The other flags, for prerequisites; one with the same key is the old version and is ignored. */
  readonly flags?: readonly Pick<FlagDefinition, 'key' | 'prerequisites'>[];
}

type Json = Record<string, unknown>;

class Issues {
  readonly list: ValidationError[] = [];
  add(path: string, code: ValidationErrorCode, message: string): void {
    this.list.push({ path, code, message });
  }
}

const field = (path: string, name: string) => (path ? `${path}.${name}` : name);
const item = (path: string, index: number) => `${path}[${index}]`;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const quoted = (value: unknown) => JSON.stringify(value);

// ---- entry points ---------------------------------------------------------------------------

/** Every problem in a whole ruleset, including prerequisite cycles and unknown segments. */
export function validateRuleset(input: unknown): ValidationError[] {
  const issues = new Issues();
  if (!isObject(input)) {
    issues.add('', 'invalid_type', 'a ruleset must be an object');
    return issues.list;
  }
  checkKnownFields(input, '', ['version', 'environments', 'segments', 'flags'], issues);
  checkVersion(input.version, 'version', issues);
  const environments = checkEnvironmentNames(input.environments, issues);
  const segments = checkSegments(input.segments, issues);
  checkFlags(input.flags, { environments, segments }, issues);
  return issues.list;
}

/** Every problem in one flag definition, checked against the ruleset it joins. */
export function validateFlag(input: unknown, scope: FlagValidationScope = {}): ValidationError[] {
  const issues = new Issues();
  const environments = scope.environments ?? DEFAULT_ENVIRONMENTS;
  const segments = scope.segments ?? [];
  checkFlag(input, '', { environments, segments }, issues);
  if (isObject(input) && typeof input.key === 'string') {
    const others = (scope.flags ?? []).filter((flag) => flag.key !== input.key);
    const graph = prerequisiteGraph([...others, input as Partial<FlagDefinition>]);
    checkPrerequisiteCycle(input.key, '', graph, issues);
  }
  return issues.list;
}

// ---- ruleset level --------------------------------------------------------------------------

function checkVersion(value: unknown, path: string, issues: Issues): void {
  if (value === undefined) issues.add(path, 'required', 'required');
  else if (!Number.isSafeInteger(value) || (value as number) < 0) {
    issues.add(path, 'invalid_value', `must be a whole number, 0 or more; got ${quoted(value)}`);
  }
}

function checkEnvironmentNames(value: unknown, issues: Issues): readonly string[] {
  if (value === undefined) return DEFAULT_ENVIRONMENTS;
  if (!checkStringList(value, 'environments', issues, { nonEmpty: true, unique: true })) return [];
  const names = value as string[];
  names.forEach((name, index) => checkName(name, item('environments', index), issues));
  return names;
}

function checkSegments(value: unknown, issues: Issues): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.add('segments', 'invalid_type', 'must be a list');
    return [];
  }
  const keys: string[] = [];
  value.forEach((segment, index) => {
    const path = item('segments', index);
    if (!isObject(segment)) return issues.add(path, 'invalid_type', 'a segment must be an object');
    checkKnownFields(segment, path, ['key', 'description', 'constraints'], issues);
    if (checkName(segment.key, field(path, 'key'), issues)) {
      if (keys.includes(segment.key as string)) {
        issues.add(field(path, 'key'), 'duplicate', `duplicate segment key ${quoted(segment.key)}`);
      }
      keys.push(segment.key as string);
    }
    checkOptionalString(segment.description, field(path, 'description'), issues);
    checkConstraints(segment.constraints, field(path, 'constraints'), issues);
  });
  return keys;
}

interface Known {
  readonly environments: readonly string[];
  readonly segments: readonly string[];
}

function checkFlags(value: unknown, known: Known, issues: Issues): void {
  if (!Array.isArray(value)) {
    issues.add('flags', value === undefined ? 'required' : 'invalid_type', 'must be a list');
    return;
  }
  const seen = new Map<string, number>();
  value.forEach((flag, index) => {
    const path = item('flags', index);
    checkFlag(flag, path, known, issues);
    if (!isObject(flag) || typeof flag.key !== 'string') return;
    const first = seen.get(flag.key);
    if (first !== undefined) {
      issues.add(
        field(path, 'key'),
        'duplicate',
        `duplicate flag key ${quoted(flag.key)} (also flags[${first}])`,
      );
    } else seen.set(flag.key, index);
  });
  const graph = prerequisiteGraph(value.filter(isObject) as Partial<FlagDefinition>[]);
  value.forEach((flag, index) => {
    if (isObject(flag) && typeof flag.key === 'string' && seen.get(flag.key) === index) {
      checkPrerequisiteCycle(flag.key, item('flags', index), graph, issues);
    }
  });
}

// ---- flag level ------------------------------------------------------------------------------

const FLAG_FIELDS = [
  'key',
  'type',
  'owner',
  'description',
  'createdAt',
  'expiresAt',
  'prerequisites',
  'environments',
];

function checkFlag(flag: unknown, path: string, known: Known, issues: Issues): void {
  if (!isObject(flag)) return issues.add(path, 'invalid_type', 'a flag must be an object');
  checkKnownFields(flag, path, FLAG_FIELDS, issues);
  checkName(flag.key, field(path, 'key'), issues);
  checkOneOf(flag.type, field(path, 'type'), FLAG_TYPES, 'flag type', issues);
  checkOptionalString(flag.owner, field(path, 'owner'), issues);
  checkOptionalString(flag.description, field(path, 'description'), issues);
  checkDates(flag, path, issues);
  checkPrerequisites(flag.prerequisites, field(path, 'prerequisites'), flag.key, issues);
  checkFlagEnvironments(flag.environments, field(path, 'environments'), known, issues);
}

function checkDates(flag: Json, path: string, issues: Issues): void {
  const created = checkInstant(flag.createdAt, field(path, 'createdAt'), true, issues);
  const expires = checkInstant(flag.expiresAt, field(path, 'expiresAt'), false, issues);
  if (created !== undefined && expires !== undefined && expires <= created) {
    issues.add(field(path, 'expiresAt'), 'out_of_range', 'must be after createdAt');
  }
}

function checkInstant(value: unknown, path: string, required: boolean, issues: Issues) {
  if (value === undefined) {
    if (required) issues.add(path, 'required', 'required');
    return undefined;
  }
  const instant = typeof value === 'string' ? parseIsoInstant(value) : undefined;
  if (instant === undefined) {
    issues.add(path, 'invalid_value', `${quoted(value)} is not an ISO 8601 date with a time zone`);
  }
  return instant;
}

function checkPrerequisites(value: unknown, path: string, flagKey: unknown, issues: Issues): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) return issues.add(path, 'invalid_type', 'must be a list');
  value.forEach((prerequisite, index) => {
    const at = item(path, index);
    if (!isObject(prerequisite)) {
      return issues.add(at, 'invalid_type', 'a prerequisite must be an object');
    }
    checkKnownFields(prerequisite, at, ['flag', 'enabled', 'variants'], issues);
    checkName(prerequisite.flag, field(at, 'flag'), issues);
    checkOptionalBoolean(prerequisite.enabled, field(at, 'enabled'), issues);
    if (prerequisite.variants !== undefined) {
      checkStringList(prerequisite.variants, field(at, 'variants'), issues, { nonEmpty: true });
    }
    if (prerequisite.flag === flagKey && typeof flagKey === 'string') {
      issues.add(field(at, 'flag'), 'prerequisite_cycle', 'a flag cannot be its own prerequisite');
    }
  });
}

function checkFlagEnvironments(value: unknown, path: string, known: Known, issues: Issues): void {
  if (!isObject(value)) {
    const code = value === undefined ? 'required' : 'invalid_type';
    return issues.add(path, code, 'must be an object keyed by environment name');
  }
  for (const [name, environment] of Object.entries(value)) {
    const at = field(path, name);
    if (!known.environments.includes(name)) {
      const list = known.environments.join(', ');
      issues.add(at, 'unknown_environment', `unknown environment ${quoted(name)} (known: ${list})`);
    }
    checkEnvironment(environment, at, known, issues);
  }
}

// ---- environment level -----------------------------------------------------------------------

const ENVIRONMENT_FIELDS = [
  'enabled',
  'stickiness',
  'targets',
  'rules',
  'rollout',
  'defaultServe',
  'variants',
];

function checkEnvironment(environment: unknown, path: string, known: Known, issues: Issues) {
  if (!isObject(environment)) {
    return issues.add(path, 'invalid_type', 'an environment configuration must be an object');
  }
  checkKnownFields(environment, path, ENVIRONMENT_FIELDS, issues);
  checkRequiredBoolean(environment.enabled, field(path, 'enabled'), issues);
  checkStickiness(environment.stickiness, field(path, 'stickiness'), issues);
  checkTargets(environment.targets, field(path, 'targets'), issues);
  const variantNames = checkVariants(environment.variants, field(path, 'variants'), issues);
  checkRules(environment.rules, field(path, 'rules'), { ...known, variantNames }, issues);
  checkRollout(environment.rollout, field(path, 'rollout'), issues);
  checkOptionalBoolean(environment.defaultServe, field(path, 'defaultServe'), issues);
}

function checkStickiness(value: unknown, path: string, issues: Issues): void {
  if (value === undefined || !checkName(value, path, issues)) return;
  if (value === 'random') {
    // Unleash's "random" stickiness would need a random number; evaluation here has none.
    const message = '"random" stickiness is not supported: use "default" or an attribute name';
    issues.add(path, 'invalid_value', message);
  }
}

function checkTargets(value: unknown, path: string, issues: Issues): void {
  if (value === undefined) return;
  if (!isObject(value)) return issues.add(path, 'invalid_type', 'must be an object');
  checkKnownFields(value, path, ['attribute', 'allow', 'deny'], issues);
  if (value.attribute !== undefined) checkName(value.attribute, field(path, 'attribute'), issues);
  const allow =
    value.allow === undefined || checkStringList(value.allow, field(path, 'allow'), issues);
  const deny = value.deny === undefined || checkStringList(value.deny, field(path, 'deny'), issues);
  if (!allow || !deny || !value.allow || !value.deny) return;
  const denied = new Set(value.deny as string[]);
  (value.allow as string[]).forEach((key, index) => {
    if (denied.has(key)) {
      issues.add(item(field(path, 'allow'), index), 'duplicate', `${quoted(key)} is also denied`);
    }
  });
}

function checkVariants(value: unknown, path: string, issues: Issues): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    issues.add(path, 'invalid_type', 'must be a list');
    return [];
  }
  const names: string[] = [];
  let weights = 0;
  value.forEach((variant, index) => {
    const at = item(path, index);
    if (!isObject(variant)) return issues.add(at, 'invalid_type', 'a variant must be an object');
    checkKnownFields(variant, at, ['name', 'weight', 'payload'], issues);
    if (checkName(variant.name, field(at, 'name'), issues)) {
      if (names.includes(variant.name as string)) {
        issues.add(field(at, 'name'), 'duplicate', `duplicate variant ${quoted(variant.name)}`);
      }
      names.push(variant.name as string);
    }
    if (checkWholeNumber(variant.weight, field(at, 'weight'), 0, VARIANT_WEIGHT_TOTAL, issues)) {
      weights += variant.weight as number;
    }
  });
  if (value.length > 0 && weights !== VARIANT_WEIGHT_TOTAL) {
    const message = `weights add up to ${weights}; they must add up to ${VARIANT_WEIGHT_TOTAL}`;
    issues.add(path, 'variant_weights', message);
  }
  return names;
}

function checkRollout(value: unknown, path: string, issues: Issues): void {
  if (value === undefined) return;
  if (!isObject(value)) return issues.add(path, 'invalid_type', 'must be an object');
  checkKnownFields(value, path, ['percentage', 'groupId'], issues);
  checkPercentage(value.percentage, field(path, 'percentage'), issues);
  if (value.groupId !== undefined) checkName(value.groupId, field(path, 'groupId'), issues);
}

const RULE_FIELDS = ['id', 'description', 'constraints', 'segments', 'serve', 'rollout', 'variant'];

interface RuleScope extends Known {
  readonly variantNames: readonly string[];
}

function checkRules(value: unknown, path: string, scope: RuleScope, issues: Issues): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) return issues.add(path, 'invalid_type', 'must be a list');
  const ids: string[] = [];
  value.forEach((rule, index) => {
    const at = item(path, index);
    if (!isObject(rule)) return issues.add(at, 'invalid_type', 'a rule must be an object');
    checkKnownFields(rule, at, RULE_FIELDS, issues);
    if (rule.id !== undefined && checkName(rule.id, field(at, 'id'), issues)) {
      if (ids.includes(rule.id as string)) {
        issues.add(field(at, 'id'), 'duplicate', `duplicate rule id ${quoted(rule.id)}`);
      }
      ids.push(rule.id as string);
    }
    checkOptionalString(rule.description, field(at, 'description'), issues);
    checkConstraints(rule.constraints, field(at, 'constraints'), issues);
    checkSegmentReferences(rule.segments, field(at, 'segments'), scope.segments, issues);
    checkOptionalBoolean(rule.serve, field(at, 'serve'), issues);
    if (rule.rollout !== undefined) checkPercentage(rule.rollout, field(at, 'rollout'), issues);
    checkRuleVariant(rule, at, scope.variantNames, issues);
  });
}

function checkSegmentReferences(
  value: unknown,
  path: string,
  known: readonly string[],
  issues: Issues,
): void {
  if (value === undefined || !checkStringList(value, path, issues)) return;
  (value as string[]).forEach((key, index) => {
    if (!known.includes(key)) {
      issues.add(item(path, index), 'unknown_segment', `unknown segment ${quoted(key)}`);
    }
  });
}

function checkRuleVariant(rule: Json, path: string, names: readonly string[], issues: Issues) {
  if (rule.variant === undefined || !checkName(rule.variant, field(path, 'variant'), issues))
    return;
  if (rule.serve === false) {
    issues.add(field(path, 'variant'), 'invalid_value', 'a rule that serves off has no variant');
  } else if (!names.includes(rule.variant as string)) {
    issues.add(
      field(path, 'variant'),
      'unknown_variant',
      `unknown variant ${quoted(rule.variant)}`,
    );
  }
}

// ---- constraints -----------------------------------------------------------------------------

const CONSTRAINT_FIELDS = ['attribute', 'operator', 'values', 'caseInsensitive', 'inverted'];

function checkConstraints(value: unknown, path: string, issues: Issues): void {
  if (!Array.isArray(value)) {
    const code = value === undefined ? 'required' : 'invalid_type';
    return issues.add(path, code, 'must be a list (empty to match every context)');
  }
  value.forEach((constraint, index) => checkConstraint(constraint, item(path, index), issues));
}

function checkConstraint(constraint: unknown, path: string, issues: Issues): void {
  if (!isObject(constraint)) return issues.add(path, 'invalid_type', 'must be an object');
  checkKnownFields(constraint, path, CONSTRAINT_FIELDS, issues);
  checkName(constraint.attribute, field(path, 'attribute'), issues);
  const operator = checkOperator(constraint.operator, field(path, 'operator'), issues);
  const valuesPath = field(path, 'values');
  if (checkStringList(constraint.values, valuesPath, issues, { nonEmpty: true }) && operator) {
    checkOperandFormat(operator, constraint.values as string[], valuesPath, issues);
  }
  checkOptionalBoolean(constraint.caseInsensitive, field(path, 'caseInsensitive'), issues);
  checkOptionalBoolean(constraint.inverted, field(path, 'inverted'), issues);
  if (constraint.caseInsensitive === true && operator && !isOneOf(operator, STRING_OPERATORS)) {
    const message = `caseInsensitive applies only to ${STRING_OPERATORS.join(', ')}`;
    issues.add(field(path, 'caseInsensitive'), 'invalid_value', message);
  }
}

function checkOperator(value: unknown, path: string, issues: Issues): Operator | undefined {
  if (value === undefined) issues.add(path, 'required', 'required');
  else if (typeof value !== 'string') issues.add(path, 'invalid_type', 'must be a string');
  else if (!isOneOf(value, OPERATORS)) {
    issues.add(path, 'unknown_operator', `unknown operator ${quoted(value)}`);
  } else return value;
  return undefined;
}

/** Numeric, semver and date operators need values they can compare with. */
function checkOperandFormat(operator: Operator, values: string[], path: string, issues: Issues) {
  const format = operandFormat(operator);
  if (!format) return;
  values.forEach((value, index) => {
    if (!format.parses(value)) {
      issues.add(item(path, index), 'invalid_value', `${quoted(value)} is not ${format.what}`);
    }
  });
}

function operandFormat(operator: Operator) {
  if (isOneOf(operator, NUMERIC_OPERATORS)) {
    return { what: 'a number', parses: (text: string) => parseNumber(text) !== undefined };
  }
  if (isOneOf(operator, SEMVER_OPERATORS)) {
    const what = 'a semantic version (MAJOR.MINOR.PATCH[-prerelease][+build])';
    return { what, parses: (text: string) => parseSemver(text) !== undefined };
  }
  if (isOneOf(operator, DATE_OPERATORS)) {
    const what = 'an ISO 8601 date, or date-time with a time zone';
    return { what, parses: (text: string) => parseIsoInstant(text) !== undefined };
  }
  return undefined;
}

// ---- prerequisite cycles ---------------------------------------------------------------------

type PrerequisiteGraph = ReadonlyMap<string, readonly string[]>;

function prerequisiteGraph(flags: readonly Partial<FlagDefinition>[]): PrerequisiteGraph {
  const graph = new Map<string, string[]>();
  for (const flag of flags) {
    if (typeof flag.key !== 'string' || graph.has(flag.key)) continue;
    const prerequisites = Array.isArray(flag.prerequisites) ? flag.prerequisites : [];
    graph.set(
      flag.key,
      prerequisites.flatMap((p) => (isObject(p) && typeof p.flag === 'string' ? [p.flag] : [])),
    );
  }
  return graph;
}

/** Reports unknown prerequisite flags, and any path from `key` that leads back to it. */
function checkPrerequisiteCycle(
  key: string,
  path: string,
  graph: PrerequisiteGraph,
  issues: Issues,
): void {
  (graph.get(key) ?? []).forEach((parent, index) => {
    const at = field(item(field(path, 'prerequisites'), index), 'flag');
    if (parent === key) return; // reported by checkPrerequisites
    if (!graph.has(parent)) {
      return issues.add(at, 'unknown_flag', `unknown flag ${quoted(parent)}`);
    }
    const cycle = pathBackTo(key, parent, graph);
    if (cycle) {
      const message = `prerequisite cycle: ${[key, ...cycle].join(' → ')}`;
      issues.add(at, 'prerequisite_cycle', message);
    }
  });
}

/** Depth-first search from `from` for `target`; the path (from … target) when there is one. */
function pathBackTo(target: string, from: string, graph: PrerequisiteGraph): string[] | undefined {
  const visited = new Set<string>();
  const search = (node: string): string[] | undefined => {
    if (node === target) return [node];
    if (visited.has(node)) return undefined;
    visited.add(node);
    for (const next of graph.get(node) ?? []) {
      const rest = search(next);
      if (rest) return [node, ...rest];
    }
    return undefined;
  };
  return search(from);
}

// ---- small checks ----------------------------------------------------------------------------

function isOneOf<T extends string>(value: string, list: readonly T[]): value is T {
  return (list as readonly string[]).includes(value);
}

function checkKnownFields(value: Json, path: string, allowed: readonly string[], issues: Issues) {
  for (const name of Object.keys(value)) {
    // An ignored typo ("contraints") could turn a rule into one that matches everyone.
    if (!allowed.includes(name)) issues.add(field(path, name), 'unknown_field', 'unknown field');
  }
}

const NAME = /^\S(?:.*\S)?$/s;

/** A required, non-empty string without surrounding whitespace. */
function checkName(value: unknown, path: string, issues: Issues): boolean {
  if (value === undefined) issues.add(path, 'required', 'required');
  else if (typeof value !== 'string') issues.add(path, 'invalid_type', 'must be a string');
  else if (!NAME.test(value)) {
    issues.add(path, 'invalid_value', 'must be non-empty, without surrounding spaces');
  } else return true;
  return false;
}

function checkOneOf(
  value: unknown,
  path: string,
  list: readonly string[],
  what: string,
  issues: Issues,
) {
  if (value === undefined) issues.add(path, 'required', 'required');
  else if (typeof value !== 'string' || !list.includes(value)) {
    issues.add(
      path,
      'invalid_value',
      `unknown ${what} ${quoted(value)} (one of ${list.join(', ')})`,
    );
  }
}

function checkOptionalString(value: unknown, path: string, issues: Issues): void {
  if (value !== undefined && typeof value !== 'string') {
    issues.add(path, 'invalid_type', 'must be a string');
  }
}

function checkOptionalBoolean(value: unknown, path: string, issues: Issues): void {
  if (value !== undefined && typeof value !== 'boolean') {
    issues.add(path, 'invalid_type', 'must be true or false');
  }
}

function checkRequiredBoolean(value: unknown, path: string, issues: Issues): void {
  if (value === undefined) issues.add(path, 'required', 'required');
  else checkOptionalBoolean(value, path, issues);
}

function checkPercentage(value: unknown, path: string, issues: Issues): void {
  checkWholeNumber(value, path, 0, 100, issues);
}

function checkWholeNumber(value: unknown, path: string, min: number, max: number, issues: Issues) {
  if (value === undefined) issues.add(path, 'required', 'required');
  else if (typeof value !== 'number') issues.add(path, 'invalid_type', 'must be a number');
  else if (!Number.isInteger(value) || value < min || value > max) {
    issues.add(path, 'out_of_range', `must be a whole number from ${min} to ${max}; got ${value}`);
  } else return true;
  return false;
}

function checkStringList(
  value: unknown,
  path: string,
  issues: Issues,
  options: { nonEmpty?: boolean; unique?: boolean } = {},
): boolean {
  if (!Array.isArray(value)) {
    issues.add(
      path,
      value === undefined ? 'required' : 'invalid_type',
      'must be a list of strings',
    );
    return false;
  }
  if (options.nonEmpty && value.length === 0) {
    issues.add(path, 'required', 'must not be empty');
    return false;
  }
  const bad = value.findIndex((entry) => typeof entry !== 'string');
  if (bad >= 0) {
    issues.add(item(path, bad), 'invalid_type', 'must be a string');
    return false;
  }
  const repeated = options.unique ? value.findIndex((v, i) => value.indexOf(v) !== i) : -1;
  if (repeated >= 0) {
    issues.add(item(path, repeated), 'duplicate', `duplicate ${quoted(value[repeated])}`);
    return false;
  }
  return true;
}
