import type { Constraint, ContextValue, EvaluationContext, Operator } from './model';
import { compareSemver, parseSemver, type SemanticVersion } from './semver';
import { asText, parseInstant, parseIsoInstant, parseNumber } from './values';

/** A constraint turned into a predicate once, when the ruleset is built, not per evaluation. */
export type ContextPredicate = (context: EvaluationContext) => boolean;

/** Does one attribute value match? undefined: the value cannot be compared (wrong type, bad format). */
type ValueTest = (value: ContextValue) => boolean | undefined;

/**
 * A missing or incomparable attribute never matches, inverted or not: a rule should not reach
 * people we know nothing about (Unleash would let an inverted constraint match them).
 */
export function compileConstraint(constraint: Constraint): ContextPredicate {
  const test = valueTest(constraint);
  const inverted = constraint.inverted === true;
  return (context) => {
    const value: unknown = context[constraint.attribute];
    if (!isContextValue(value)) return false;
    const matched = test(value);
    return matched === undefined ? false : matched !== inverted;
  };
}

function isContextValue(value: unknown): value is ContextValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function valueTest(constraint: Constraint): ValueTest {
  const { operator, values } = constraint;
  switch (operator) {
    case 'IN':
    case 'NOT_IN':
    case 'STR_CONTAINS':
    case 'STR_STARTS_WITH':
    case 'STR_ENDS_WITH':
      return stringTest(operator, values, constraint.caseInsensitive === true);
    case 'NUM_EQ':
    case 'NUM_LT':
    case 'NUM_LTE':
    case 'NUM_GT':
    case 'NUM_GTE':
      return orderedTest(operator, values.map(requireNumber), parseNumber, (a, b) => a - b);
    case 'SEMVER_EQ':
    case 'SEMVER_LT':
    case 'SEMVER_GT':
      return orderedTest(operator, values.map(requireSemver), parseContextSemver, compareSemver);
    case 'DATE_BEFORE':
    case 'DATE_AFTER':
      return orderedTest(operator, values.map(requireInstant), parseInstant, (a, b) => a - b);
  }
}

function stringTest(operator: Operator, values: readonly string[], caseInsensitive: boolean) {
  const fold = caseInsensitive ? (text: string) => text.toLowerCase() : (text: string) => text;
  const wanted = values.map(fold);
  const wantedSet = new Set(wanted);
  const matchers: Partial<Record<Operator, (text: string) => boolean>> = {
    IN: (text) => wantedSet.has(text),
    NOT_IN: (text) => !wantedSet.has(text),
    STR_CONTAINS: (text) => wanted.some((part) => text.includes(part)),
    STR_STARTS_WITH: (text) => wanted.some((prefix) => text.startsWith(prefix)),
    STR_ENDS_WITH: (text) => wanted.some((suffix) => text.endsWith(suffix)),
  };
  const matches = matchers[operator]!;
  return (value: ContextValue) => matches(fold(asText(value)));
}

/** What the sign of compare(contextValue, constraintValue) must be for each ordered operator. */
const ORDER_HOLDS: Partial<Record<Operator, (order: number) => boolean>> = {
  NUM_EQ: (order) => order === 0,
  NUM_LT: (order) => order < 0,
  NUM_LTE: (order) => order <= 0,
  NUM_GT: (order) => order > 0,
  NUM_GTE: (order) => order >= 0,
  SEMVER_EQ: (order) => order === 0,
  SEMVER_LT: (order) => order < 0,
  SEMVER_GT: (order) => order > 0,
  DATE_BEFORE: (order) => order < 0,
  DATE_AFTER: (order) => order > 0,
};

function orderedTest<T>(
  operator: Operator,
  wanted: readonly T[],
  parse: (value: ContextValue) => T | undefined,
  compare: (a: T, b: T) => number,
): ValueTest {
  const holds = ORDER_HOLDS[operator]!;
  return (value) => {
    const parsed = parse(value);
    if (parsed === undefined) return undefined;
    return wanted.some((target) => holds(compare(parsed, target)));
  };
}

function parseContextSemver(value: ContextValue): SemanticVersion | undefined {
  return typeof value === 'string' ? parseSemver(value) : undefined;
}

/** Constraint values are validated before compiling; a bad one here is a programming error. */
function requireNumber(text: string): number {
  return required(parseNumber(text), text, 'a number');
}

function requireSemver(text: string): SemanticVersion {
  return required(parseSemver(text), text, 'a semantic version');
}

function requireInstant(text: string): number {
  return required(parseIsoInstant(text), text, 'an ISO 8601 date');
}

function required<T>(parsed: T | undefined, text: string, what: string): T {
  if (parsed === undefined) throw new Error(`constraint value "${text}" is not ${what}`);
  return parsed;
}

/** For explanations: `country IN ["NO", "SE"]`, `not (plan IN ["free"])`. */
export function describeConstraint(constraint: Constraint): string {
  const values = constraint.values.map((value) => JSON.stringify(value)).join(', ');
  const caseNote = constraint.caseInsensitive ? ' (ignoring case)' : '';
  const test = `${constraint.attribute} ${constraint.operator} [${values}]${caseNote}`;
  return constraint.inverted ? `not (${test})` : test;
}
