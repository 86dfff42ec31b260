/**
 * A small Semantic Versioning 2.0.0 parser and comparator: MAJOR.MINOR.PATCH, optional
 * -prerelease and +build. Strict, as Unleash is: no leading "v", no leading zeros, no partials.
 */

export interface SemanticVersion {
  readonly major: string;
  readonly minor: string;
  readonly patch: string;
  readonly prerelease: readonly string[];
}

const NUMERIC = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMERIC}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+[0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*)?$`,
);

export function parseSemver(text: string): SemanticVersion | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major, minor, patch, prerelease] = match;
  return {
    major: major!,
    minor: minor!,
    patch: patch!,
    prerelease: prerelease ? prerelease.split('.') : [],
  };
}

/** Negative, zero or positive, by semver precedence (build metadata is ignored, as the spec says). */
export function compareSemver(a: SemanticVersion, b: SemanticVersion): number {
  return (
    compareNumericIds(a.major, b.major) ||
    compareNumericIds(a.minor, b.minor) ||
    compareNumericIds(a.patch, b.patch) ||
    comparePrereleases(a.prerelease, b.prerelease)
  );
}

/** Digit strings without leading zeros compare by length, then lexically: exact at any size. */
function compareNumericIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A release ranks above any of its prereleases; otherwise compare identifiers left to right. */
function comparePrereleases(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return b.length - a.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = comparePrereleaseIds(a[i]!, b[i]!);
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

const ALL_DIGITS = /^\d+$/;

/** Numeric identifiers rank below alphanumeric ones; alphanumerics compare in ASCII order. */
function comparePrereleaseIds(a: string, b: string): number {
  const aNumeric = ALL_DIGITS.test(a);
  const bNumeric = ALL_DIGITS.test(b);
  if (aNumeric && bNumeric) return compareNumericIds(a, b);
  if (aNumeric !== bNumeric) return aNumeric ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
