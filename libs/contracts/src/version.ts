/**
 * The version of this package (and of the AsyncAPI document). Kept in code, not read from
 * package.json, so the published build needs no file outside its own output; a test holds the two
 * equal.
 */
export const CONTRACTS_VERSION = '0.1.0';
