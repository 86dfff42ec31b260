import fc from 'fast-check';
import { compileConstraint, describeConstraint } from './constraints';
import type { Constraint, EvaluationContext, Operator } from './model';

const matches = (constraint: Constraint, context: EvaluationContext) =>
  compileConstraint(constraint)(context);
const on = (attribute: string, operator: Operator, ...values: string[]): Constraint => ({
  attribute,
  operator,
  values,
});

describe('string operators', () => {
  it('IN: the attribute equals one of the values', () => {
    const country = on('country', 'IN', 'NO', 'SE');
    expect(matches(country, { country: 'SE' })).toBe(true);
    expect(matches(country, { country: 'DK' })).toBe(false);
    expect(matches(country, { country: 'se' })).toBe(false);
  });

  it('NOT_IN: the attribute equals none of the values', () => {
    const country = on('country', 'NOT_IN', 'NO', 'SE');
    expect(matches(country, { country: 'DK' })).toBe(true);
    expect(matches(country, { country: 'NO' })).toBe(false);
  });

  it('STR_CONTAINS: the attribute contains one of the values', () => {
    const email = on('email', 'STR_CONTAINS', '@rollgate.', '+beta');
    expect(matches(email, { email: 'ana@rollgate.dev' })).toBe(true);
    expect(matches(email, { email: 'bo+beta@example.com' })).toBe(true);
    expect(matches(email, { email: 'cy@example.com' })).toBe(false);
  });

  it('STR_STARTS_WITH: the attribute starts with one of the values', () => {
    const path = on('path', 'STR_STARTS_WITH', '/api/v2/');
    expect(matches(path, { path: '/api/v2/orders' })).toBe(true);
    expect(matches(path, { path: '/api/v1/orders' })).toBe(false);
  });

  it('STR_ENDS_WITH: the attribute ends with one of the values', () => {
    const host = on('host', 'STR_ENDS_WITH', '.internal');
    expect(matches(host, { host: 'db.internal' })).toBe(true);
    expect(matches(host, { host: 'internal.example.com' })).toBe(false);
  });

  it('caseInsensitive lower-cases both sides', () => {
    const plan = { ...on('plan', 'IN', 'Pro'), caseInsensitive: true };
    expect(matches(plan, { plan: 'PRO' })).toBe(true);
    const email = { ...on('email', 'STR_ENDS_WITH', '@Example.COM'), caseInsensitive: true };
    expect(matches(email, { email: 'ana@example.com' })).toBe(true);
    expect(matches({ ...plan, operator: 'NOT_IN' }, { plan: 'pRo' })).toBe(false);
  });

  it('compares numbers and booleans by their text', () => {
    expect(matches(on('tier', 'IN', '3'), { tier: 3 })).toBe(true);
    expect(matches(on('beta', 'IN', 'true'), { beta: true })).toBe(true);
  });
});

describe('numeric operators', () => {
  const cases: [Operator, number, boolean][] = [
    ['NUM_EQ', 10, true],
    ['NUM_EQ', 11, false],
    ['NUM_LT', 9.5, true],
    ['NUM_LT', 10, false],
    ['NUM_LTE', 10, true],
    ['NUM_LTE', 10.01, false],
    ['NUM_GT', 10.5, true],
    ['NUM_GT', 10, false],
    ['NUM_GTE', 10, true],
    ['NUM_GTE', 9, false],
  ];

  it.each(cases)('%s 10 with %d is %s', (operator, value, expected) => {
    expect(matches(on('cartItems', operator, '10'), { cartItems: value })).toBe(expected);
  });

  it('reads numeric strings from the context', () => {
    expect(matches(on('age', 'NUM_GTE', '18'), { age: '21' })).toBe(true);
    expect(matches(on('age', 'NUM_EQ', '1.5'), { age: '1.50' })).toBe(true);
  });

  it('never matches a value that is not a number, inverted or not', () => {
    expect(matches(on('age', 'NUM_LT', '18'), { age: 'young' })).toBe(false);
    expect(matches({ ...on('age', 'NUM_LT', '18'), inverted: true }, { age: 'young' })).toBe(false);
    expect(matches(on('age', 'NUM_LT', '18'), { age: '' })).toBe(false);
  });
});

describe('semver operators', () => {
  it('SEMVER_EQ: equal by precedence, build metadata ignored', () => {
    const version = on('appVersion', 'SEMVER_EQ', '2.1.0');
    expect(matches(version, { appVersion: '2.1.0' })).toBe(true);
    expect(matches(version, { appVersion: '2.1.0+build.9' })).toBe(true);
    expect(matches(version, { appVersion: '2.1.0-rc.1' })).toBe(false);
  });

  it('SEMVER_LT: 1.9.9 and 2.0.0-rc.1 are before 2.0.0', () => {
    const version = on('appVersion', 'SEMVER_LT', '2.0.0');
    expect(matches(version, { appVersion: '1.9.9' })).toBe(true);
    expect(matches(version, { appVersion: '2.0.0-rc.1' })).toBe(true);
    expect(matches(version, { appVersion: '2.0.0' })).toBe(false);
  });

  it('SEMVER_GT: 1.10.0 is after 1.9.0 (numbers, not text)', () => {
    const version = on('appVersion', 'SEMVER_GT', '1.9.0');
    expect(matches(version, { appVersion: '1.10.0' })).toBe(true);
    expect(matches(version, { appVersion: '1.9.0' })).toBe(false);
  });

  it('never matches a context value that is not a version', () => {
    expect(matches(on('appVersion', 'SEMVER_LT', '2.0.0'), { appVersion: 'v1.0.0' })).toBe(false);
    expect(matches(on('appVersion', 'SEMVER_LT', '2.0.0'), { appVersion: 1 })).toBe(false);
  });
});

describe('date operators', () => {
  const launch = '2026-03-01T09:00:00Z';

  it('DATE_BEFORE: strictly before the instant', () => {
    const before = on('currentTime', 'DATE_BEFORE', launch);
    expect(matches(before, { currentTime: '2026-03-01T08:59:59Z' })).toBe(true);
    expect(matches(before, { currentTime: launch })).toBe(false);
  });

  it('DATE_AFTER: strictly after the instant, whatever the zone', () => {
    const after = on('currentTime', 'DATE_AFTER', launch);
    expect(matches(after, { currentTime: '2026-03-01T10:00:01+01:00' })).toBe(true);
    expect(matches(after, { currentTime: '2026-03-01T09:59:59+01:00' })).toBe(false);
  });

  it('accepts epoch milliseconds in the context', () => {
    const after = on('currentTime', 'DATE_AFTER', launch);
    expect(matches(after, { currentTime: Date.UTC(2026, 2, 2) })).toBe(true);
  });

  it('never matches a date without a zone', () => {
    expect(
      matches(on('currentTime', 'DATE_BEFORE', launch), { currentTime: '2026-01-01T00:00:00' }),
    ).toBe(false);
  });
});

describe('any constraint', () => {
  it('inverted negates a match', () => {
    const notNordic = { ...on('country', 'IN', 'NO', 'SE'), inverted: true };
    expect(matches(notNordic, { country: 'US' })).toBe(true);
    expect(matches(notNordic, { country: 'NO' })).toBe(false);
  });

  it('never matches a missing attribute, even inverted or NOT_IN', () => {
    expect(matches(on('country', 'NOT_IN', 'NO'), {})).toBe(false);
    expect(matches({ ...on('country', 'IN', 'NO'), inverted: true }, { country: null })).toBe(
      false,
    );
  });

  it('never matches an attribute that is an object or a list', () => {
    const context = { country: ['NO'] } as unknown as EvaluationContext;
    expect(matches(on('country', 'IN', 'NO'), context)).toBe(false);
  });

  it('with several values, matches when any value does', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1 }), fc.string(), (values, value) => {
        const inList = matches(on('x', 'IN', ...values), { x: value });
        expect(inList).toBe(values.includes(value));
        expect(matches(on('x', 'NOT_IN', ...values), { x: value })).toBe(!inList);
      }),
    );
  });

  it('inverted is always the opposite for a present, comparable value', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (limit, value) => {
        const constraint = on('n', 'NUM_GT', String(limit));
        expect(matches({ ...constraint, inverted: true }, { n: value })).toBe(
          !matches(constraint, { n: value }),
        );
      }),
    );
  });

  it('describes itself for explanations', () => {
    expect(describeConstraint(on('country', 'IN', 'NO', 'SE'))).toBe('country IN ["NO", "SE"]');
    expect(
      describeConstraint({ ...on('plan', 'IN', 'pro'), caseInsensitive: true, inverted: true }),
    ).toBe('not (plan IN ["pro"] (ignoring case))');
  });
});
