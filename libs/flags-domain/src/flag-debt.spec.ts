import fc from 'fast-check';
import {
  DEFAULT_EXPIRY_DAYS,
  expiryDate,
  isExpired,
  isPotentiallyStale,
  potentiallyStaleDate,
  POTENTIALLY_STALE_AFTER_DAYS,
} from './flag-debt';
import { FLAG_TYPES, type FlagType } from './model';

const createdAt = '2026-01-01T00:00:00Z';
const day = (n: number, extraMs = 0) => new Date(Date.UTC(2026, 0, 1 + n) + extraMs);
const flag = (type: FlagType, expiresAt?: string) => ({ type, createdAt, expiresAt });

describe('flag debt defaults', () => {
  it('follow Unleash lifetimes for staleness and expire only temporary flags', () => {
    expect(POTENTIALLY_STALE_AFTER_DAYS).toEqual({
      release: 40,
      experiment: 40,
      operational: 7,
      'kill-switch': null,
      permission: null,
    });
    expect(DEFAULT_EXPIRY_DAYS).toEqual({
      release: 40,
      experiment: 40,
      operational: null,
      'kill-switch': null,
      permission: null,
    });
  });
});

describe('release and experiment flags', () => {
  it.each(['release', 'experiment'] as const)(
    'a %s flag expires and goes stale 40 days after creation, strictly after',
    (type) => {
      expect(expiryDate(flag(type))).toEqual(day(40));
      expect(isExpired(flag(type), day(40))).toBe(false);
      expect(isPotentiallyStale(flag(type), day(40))).toBe(false);
      expect(isExpired(flag(type), day(40, 1))).toBe(true);
      expect(isPotentiallyStale(flag(type), day(40, 1))).toBe(true);
    },
  );

  it('an explicit expiresAt replaces the default, both ways', () => {
    const extended = flag('release', '2026-06-01T00:00:00Z');
    expect(isExpired(extended, day(100))).toBe(false);
    expect(isPotentiallyStale(extended, day(100))).toBe(false);
    expect(isExpired(extended, new Date('2026-06-01T00:00:01Z'))).toBe(true);
    const early = flag('experiment', '2026-01-10T00:00:00Z');
    expect(isExpired(early, day(10))).toBe(true);
  });
});

describe('operational flags', () => {
  it('go potentially stale after 7 days but never expire by default', () => {
    expect(isPotentiallyStale(flag('operational'), day(7))).toBe(false);
    expect(isPotentiallyStale(flag('operational'), day(8))).toBe(true);
    expect(expiryDate(flag('operational'))).toBeNull();
    expect(isExpired(flag('operational'), day(3650))).toBe(false);
  });

  it('expire when given a date', () => {
    expect(isExpired(flag('operational', '2026-02-01T00:00:00Z'), day(40))).toBe(true);
  });
});

describe('kill-switch and permission flags', () => {
  it.each(['kill-switch', 'permission'] as const)(
    'a %s flag is never stale nor expired',
    (type) => {
      expect(potentiallyStaleDate(flag(type))).toBeNull();
      expect(isPotentiallyStale(flag(type), day(3650))).toBe(false);
      expect(isExpired(flag(type), day(3650))).toBe(false);
    },
  );
});

describe('custom lifetimes', () => {
  it('replace the defaults; 0 means never, as in Unleash', () => {
    const lifetimes = { ...POTENTIALLY_STALE_AFTER_DAYS, operational: 0, permission: 90 };
    expect(isPotentiallyStale(flag('operational'), day(365), lifetimes)).toBe(false);
    expect(isPotentiallyStale(flag('permission'), day(91), lifetimes)).toBe(true);
  });
});

describe('properties', () => {
  const type = fc.constantFrom(...FLAG_TYPES);
  const offsetMs = fc.integer({ min: -10 * 86_400_000, max: 1000 * 86_400_000 });
  const expiresAt = fc.option(
    fc.integer({ min: 1, max: 500 }).map((n) => day(n).toISOString()),
    {
      nil: undefined,
    },
  );

  it('an expired flag is always potentially stale', () => {
    fc.assert(
      fc.property(type, expiresAt, offsetMs, (t, expiry, offset) => {
        const now = new Date(day(0).getTime() + offset);
        if (isExpired(flag(t, expiry), now))
          expect(isPotentiallyStale(flag(t, expiry), now)).toBe(true);
      }),
    );
  });

  it('once stale or expired, a flag stays so as time passes', () => {
    fc.assert(
      fc.property(type, expiresAt, offsetMs, offsetMs, (t, expiry, a, b) => {
        const [early, late] = [Math.min(a, b), Math.max(a, b)].map(
          (o) => new Date(day(0).getTime() + o),
        );
        const subject = flag(t, expiry);
        if (isExpired(subject, early!)) expect(isExpired(subject, late!)).toBe(true);
        if (isPotentiallyStale(subject, early!))
          expect(isPotentiallyStale(subject, late!)).toBe(true);
      }),
    );
  });

  it('nothing is stale or expired at creation', () => {
    fc.assert(
      fc.property(type, expiresAt, (t, expiry) => {
        expect(isPotentiallyStale(flag(t, expiry), day(0))).toBe(false);
        expect(isExpired(flag(t, expiry), day(0))).toBe(false);
      }),
    );
  });
});
