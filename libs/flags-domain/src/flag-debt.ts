import type { FlagDefinition, FlagType } from './model';
import { parseIsoInstant } from './values';

/**
 * Flag debt. Two dates per flag, both pure functions of the definition:
 * - potentially stale (a nag, listed by `rollgate flags stale`): past the type's lifetime,
 *   counted from creation, as Unleash's job computes `potentially_stale`;
 * - expired (a gate, may block releases): past `expiresAt`, or creation + the type's default expiry.
 * An explicit `expiresAt` is the owner's own date, so it replaces both defaults.
 */

const DAY_MS = 86_400_000;

/** Days until a flag of this type is potentially stale; null: never. Unleash's seeded lifetimes. */
export const POTENTIALLY_STALE_AFTER_DAYS: Readonly<Record<FlagType, number | null>> = {
  release: 40,
  experiment: 40,
  operational: 7,
  'kill-switch': null,
  permission: null,
};

/**
 * Days until a flag of this type expires by default; null: it does not expire unless given a
 * date. Only temporary flags expire: an operational flag past 7 days is worth a look, not a gate.
 */
export const DEFAULT_EXPIRY_DAYS: Readonly<Record<FlagType, number | null>> = {
  release: 40,
  experiment: 40,
  operational: null,
  'kill-switch': null,
  permission: null,
};

export type FlagDebtFields = Pick<FlagDefinition, 'type' | 'createdAt' | 'expiresAt'>;

/** When the flag expires; null when it never does. */
export function expiryDate(flag: FlagDebtFields): Date | null {
  return explicitExpiry(flag) ?? afterCreation(flag, DEFAULT_EXPIRY_DAYS[flag.type]);
}

/** When the flag becomes potentially stale; null when it never does. */
export function potentiallyStaleDate(
  flag: FlagDebtFields,
  lifetimes: Readonly<Record<FlagType, number | null>> = POTENTIALLY_STALE_AFTER_DAYS,
): Date | null {
  return explicitExpiry(flag) ?? afterCreation(flag, lifetimes[flag.type]);
}

/** Expired strictly after its expiry instant (the same "after" as Unleash's staleness rule). */
export function isExpired(flag: FlagDebtFields, now: Date): boolean {
  return isAfter(now, expiryDate(flag));
}

/** Unleash's rule, now > created + lifetime; an expired flag is always potentially stale too. */
export function isPotentiallyStale(
  flag: FlagDebtFields,
  now: Date,
  lifetimes: Readonly<Record<FlagType, number | null>> = POTENTIALLY_STALE_AFTER_DAYS,
): boolean {
  return isAfter(now, potentiallyStaleDate(flag, lifetimes)) || isExpired(flag, now);
}

function isAfter(now: Date, date: Date | null): boolean {
  return date !== null && now.getTime() > date.getTime();
}

function explicitExpiry(flag: FlagDebtFields): Date | null {
  return flag.expiresAt === undefined ? null : new Date(instant(flag.expiresAt, 'expiresAt'));
}

function afterCreation(flag: FlagDebtFields, days: number | null): Date | null {
  if (days === null || days <= 0) return null; // Unleash: a lifetime of null or 0 means never
  return new Date(instant(flag.createdAt, 'createdAt') + days * DAY_MS);
}

function instant(text: string, name: string): number {
  const parsed = parseIsoInstant(text);
  if (parsed === undefined) throw new Error(`${name} "${text}" is not an ISO 8601 date`);
  return parsed;
}
