/**
 * A hand-written fast path for the envelope schema (ENVELOPE_JSON_SCHEMA in catalog.ts): the ajv
 * validator spends most of its time in format regexes, per-key property lookups and UTF-16 length
 * counting, on every event appended or read. This accepts only envelopes the schema accepts, in
 * their common shape (canonical UUID, `Date.toISOString()` instants); anything it does not accept
 * goes to ajv, which decides and names the field. envelope-check.spec.ts checks the agreement.
 */

const DASH = 45;
const COLON = 58;
const DOT = 46;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 97 && code <= 102) || (code >= 65 && code <= 70);
}

/** 8-4-4-4-12 hex digits; the `urn:uuid:` form ajv also accepts is left to ajv. */
export function isCanonicalUuid(value: string): boolean {
  if (value.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const code = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (code !== DASH) return false;
    } else if (!isHex(code)) return false;
  }
  return true;
}

/** `YYYY-MM-DDTHH:MM:SS.sssZ`, the only form `toISOString` writes, within ajv's digit ranges. */
export function isIsoInstant(value: string): boolean {
  if (value.length !== 24) return false;
  const c = (i: number) => value.charCodeAt(i);
  return (
    isDigit(c(0)) &&
    isDigit(c(1)) &&
    isDigit(c(2)) &&
    isDigit(c(3)) &&
    c(4) === DASH &&
    (c(5) === 48 || c(5) === 49) &&
    isDigit(c(6)) &&
    c(7) === DASH &&
    c(8) >= 48 &&
    c(8) <= 51 &&
    isDigit(c(9)) &&
    (c(10) === 84 || c(10) === 116) &&
    c(11) >= 48 &&
    c(11) <= 50 &&
    isDigit(c(12)) &&
    c(13) === COLON &&
    c(14) >= 48 &&
    c(14) <= 53 &&
    isDigit(c(15)) &&
    c(16) === COLON &&
    c(17) >= 48 &&
    c(17) <= 53 &&
    isDigit(c(18)) &&
    c(19) === DOT &&
    isDigit(c(20)) &&
    isDigit(c(21)) &&
    isDigit(c(22)) &&
    (c(23) === 90 || c(23) === 122)
  );
}

/** No field outside the envelope's, walked with for..in as ajv's additionalProperties does. */
export function hasOnlyEnvelopeFields(value: object): boolean {
  for (const key in value) {
    switch (key) {
      case 'id':
      case 'type':
      case 'version':
      case 'occurredAt':
      case 'actor':
      case 'correlationId':
      case 'causationId':
      case 'key':
      case 'sequence':
      case 'data':
        break;
      default:
        return false;
    }
  }
  return true;
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

function positiveInteger(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 1;
}

/**
 * True only if ajv would accept `value` against the envelope schema. False means "ask ajv":
 * the value may still be valid (e.g. a `urn:uuid:` id, an offset instead of `Z`).
 */
export function isCommonValidEnvelope(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  if (!hasOnlyEnvelopeFields(e)) return false;
  const id = e['id'];
  const occurredAt = e['occurredAt'];
  const causationId = e['causationId'];
  const sequence = e['sequence'];
  return (
    typeof id === 'string' &&
    isCanonicalUuid(id) &&
    nonEmpty(e['type']) &&
    positiveInteger(e['version']) &&
    typeof occurredAt === 'string' &&
    isIsoInstant(occurredAt) &&
    nonEmpty(e['actor']) &&
    nonEmpty(e['correlationId']) &&
    (causationId === null || typeof causationId === 'string') &&
    nonEmpty(e['key']) &&
    (sequence === undefined || positiveInteger(sequence)) &&
    e['data'] !== undefined
  );
}
