import { parseInstant, parseIsoInstant, parseNumber } from './values';

describe('parseIsoInstant', () => {
  it.each([
    ['2026-03-01', Date.UTC(2026, 2, 1)],
    ['2026-03-01T12:30Z', Date.UTC(2026, 2, 1, 12, 30)],
    ['2026-03-01T12:30:15Z', Date.UTC(2026, 2, 1, 12, 30, 15)],
    ['2026-03-01T12:30:15.250Z', Date.UTC(2026, 2, 1, 12, 30, 15, 250)],
    ['2026-03-01T12:30:15.123456789Z', Date.UTC(2026, 2, 1, 12, 30, 15, 123)],
    ['2026-03-01T14:30:00+02:00', Date.UTC(2026, 2, 1, 12, 30)],
    ['2026-03-01T00:30:00-05:30', Date.UTC(2026, 2, 1, 6, 0)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
  ])('reads %s', (text, expected) => expect(parseIsoInstant(text)).toBe(expected));

  it.each([
    '2026-03-01T12:30:00', // no zone: a different instant on every machine
    '2026-02-29',
    '2026-13-01',
    '2026-04-31',
    '2026-03-01T24:00:00Z',
    '2026-03-01T12:60:00Z',
    '2026-03-01T12:00:00+24:00',
    '01/03/2026',
    'yesterday',
    '',
  ])('refuses %j', (text) => expect(parseIsoInstant(text)).toBeUndefined());
});

describe('parseInstant', () => {
  it('takes epoch milliseconds as they are', () => {
    expect(parseInstant(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(parseInstant(Number.NaN)).toBeUndefined();
    expect(parseInstant(true)).toBeUndefined();
  });
});

describe('parseNumber', () => {
  it.each([
    ['42', 42],
    ['-1.5', -1.5],
    [' 7 ', 7],
    ['.5', 0.5],
    ['1e3', 1000],
    [3, 3],
  ])('reads %j', (value, expected) => expect(parseNumber(value)).toBe(expected));

  it.each(['', '  ', 'abc', '1,5', '0x10', 'Infinity', '1.2.3'])('refuses %j', (value) =>
    expect(parseNumber(value)).toBeUndefined(),
  );

  it('refuses non-finite numbers and booleans', () => {
    expect(parseNumber(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(parseNumber(true)).toBeUndefined();
  });
});
