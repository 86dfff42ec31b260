import type {
  ApiField,
  ConsumedField,
  ConsumedOperation,
  ConsumerContract,
  ProvidedApi,
  ProvidedOperation,
} from './model';

export type BreakKind =
  | 'operation-missing'
  | 'response-field-missing'
  | 'response-type-mismatch'
  | 'response-type-changed'
  | 'request-field-not-accepted'
  | 'request-field-required'
  | 'request-type-mismatch'
  | 'request-value-not-accepted'
  | 'request-type-narrowed'
  | 'request-enum-narrowed';

/** One way a provider's API fails one operation a consumer uses. */
export interface Break {
  kind: BreakKind;
  /** `GET /orders/{id}`, as the provider names it when it can. */
  operation: string;
  field?: string;
  /** What changed, for the sentence: `number → string`, `"express"`. */
  detail?: string;
}

const MISSING: readonly BreakKind[] = ['response-field-missing', 'request-field-not-accepted'];

const segments = (path: string) => path.replace(/\/+$/, '').split('/');
const isTemplate = (segment: string) => /^\{[^}]*\}$/.test(segment);

/**
 * The provider operation a consumer's call reaches: same method, each segment equal or a path
 * parameter; literal segments win over parameters (`/orders/search` before `/orders/{id}`).
 */
export function findOperation(
  api: ProvidedApi,
  method: string,
  path: string,
): ProvidedOperation | undefined {
  const wanted = segments(path);
  let best: { operation: ProvidedOperation; literal: number } | undefined;
  for (const operation of api.operations) {
    if (operation.method !== method) continue;
    const offered = segments(operation.path);
    if (offered.length !== wanted.length) continue;
    let literal = 0;
    const matches = offered.every((segment, i) => {
      const asked = wanted[i]!;
      if (isTemplate(segment)) return asked !== '';
      if (segment === asked) literal++;
      return segment === asked;
    });
    if (matches && (!best || literal > best.literal)) best = { operation, literal };
  }
  return best?.operation;
}

/** The same family for example-typed contracts: an example 12 does not promise an integer. */
const family = (type: string) => (type === 'integer' ? 'number' : type);

/** A value of `type` fits one of `types` (no types: anything fits). */
function fits(type: string, types: readonly string[]): boolean {
  return types.length === 0 || types.some((t) => family(t) === family(type));
}

/** Every value of `type` is one of `types`: integer is a number, not the other way round. */
function covered(type: string, types: readonly string[]): boolean {
  return (
    types.length === 0 || types.includes(type) || (type === 'integer' && types.includes('number'))
  );
}

const children = (name: string) => [`${name}.`, `${name}[]`];
const below = (name: string, ancestor: string) =>
  children(ancestor).some((c) => name.startsWith(c));

/**
 * The shape a field has in a list, or `free` below an open object (one whose properties the
 * provider does not list: it takes any field).
 */
function lookup(fields: readonly ApiField[], name: string): ApiField | 'free' | undefined {
  const byName = new Map(fields.map((f) => [f.field, f]));
  const found = byName.get(name);
  if (found) return found;
  const parts = name.split(/(?=\.)|(?=\[\])/);
  for (let i = parts.length - 1; i > 0; i--)
    if (byName.get(parts.slice(0, i).join(''))?.open) return 'free';
  return undefined;
}

/**
 * The consumer sends `name`: itself, something below it, or an object above it whose contents
 * the contract does not spell out.
 */
function sends(use: ConsumedOperation, name: string): boolean {
  return use.sends.some(
    (f) =>
      f.field === name ||
      below(f.field, name) ||
      (below(name, f.field) && !use.sends.some((g) => below(g.field, f.field))),
  );
}

/** Breaks of one request or response field against the provider's shape of it. */
function fieldBreaks(
  side: 'request' | 'response',
  field: ConsumedField,
  shape: ApiField | 'free' | undefined,
  operation: string,
): Break[] {
  const at = { operation, field: field.field };
  if (shape === undefined) {
    if (side === 'response') return [{ kind: 'response-field-missing', ...at }];
    // Headers a client sends (accept, user-agent) are not the provider's to declare.
    return field.field.startsWith('header:') ? [] : [{ kind: 'request-field-not-accepted', ...at }];
  }
  if (shape === 'free') return [];
  if (field.type !== undefined && !fits(field.type, shape.types))
    return [
      {
        kind: side === 'response' ? 'response-type-mismatch' : 'request-type-mismatch',
        ...at,
        detail: `${field.type} → ${shape.types.join(' | ')}`,
      },
    ];
  if (
    side === 'request' &&
    field.value !== undefined &&
    shape.enum &&
    !shape.enum.includes(field.value)
  )
    return [{ kind: 'request-value-not-accepted', ...at, detail: field.value }];
  return [];
}

/**
 * What the live provider versions (`baseline`) offered for a field the consumer uses, and the new
 * version no longer does: a request field that accepts fewer types or values, a response field
 * that may now hold a type the consumer never received.
 */
function narrowing(
  side: 'request' | 'response',
  name: string,
  next: ApiField,
  before: ApiField,
  operation: string,
): Break[] {
  const at = { operation, field: name };
  if (next.types.length === 0 || before.types.length === 0) return [];
  if (side === 'response') {
    const added = next.types.filter((t) => !covered(t, before.types));
    return added.length > 0
      ? [
          {
            kind: 'response-type-changed',
            ...at,
            detail: `${before.types.join(' | ')} → ${next.types.join(' | ')}`,
          },
        ]
      : [];
  }
  if (before.types.some((t) => !covered(t, next.types)))
    return [
      {
        kind: 'request-type-narrowed',
        ...at,
        detail: `${before.types.join(' | ')} → ${next.types.join(' | ')}`,
      },
    ];
  const removed = next.enum
    ? (before.enum ?? ['any value']).filter((v) => !next.enum!.includes(v))
    : [];
  return removed.length > 0
    ? [{ kind: 'request-enum-narrowed', ...at, detail: removed.join(', ') }]
    : [];
}

/**
 * Everything of `use` that `api` does not serve. With `baseline` (the provider versions live now,
 * when `api` is a new provider version), also what it narrows of the fields the consumer uses.
 * Pure; the same function answers both directions, so the verdict does not depend on which side
 * ships first.
 */
export function compareOperation(
  api: ProvidedApi,
  use: ConsumedOperation,
  baseline: readonly ProvidedApi[] = [],
): Break[] {
  const operation = findOperation(api, use.method, use.path);
  const earlier = baseline
    .map((b) => findOperation(b, use.method, use.path))
    .filter((o) => o !== undefined);
  const name = `${use.method} ${(operation ?? earlier[0])?.path ?? use.path}`;
  if (!operation) return [{ kind: 'operation-missing', operation: name }];
  const found: Break[] = [];
  for (const field of use.sends) {
    const shape = lookup(operation.request, field.field);
    found.push(...fieldBreaks('request', field, shape, name));
    for (const before of earlier) {
      const old = lookup(before.request, field.field);
      if (typeof shape === 'object' && typeof old === 'object')
        found.push(...narrowing('request', field.field, shape, old, name));
    }
  }
  for (const field of operation.request)
    if (field.required && !field.field.includes('[]') && !sends(use, field.field))
      found.push({ kind: 'request-field-required', operation: name, field: field.field });
  for (const field of use.reads) {
    const shape = lookup(operation.response, field.field);
    found.push(...fieldBreaks('response', field, shape, name));
    for (const before of earlier) {
      const old = lookup(before.response, field.field);
      if (typeof shape === 'object' && typeof old === 'object')
        found.push(...narrowing('response', field.field, shape, old, name));
    }
  }
  // One finding per field, and none below a field that is missing already.
  const missing = found.filter((b) => MISSING.includes(b.kind)).map((b) => b.field!);
  const seen = new Set<string>();
  return found.filter((b) => {
    const key = `${b.kind}|${b.field ?? ''}`;
    const underMissing = b.field !== undefined && missing.some((m) => below(b.field!, m));
    return !underMissing && !seen.has(key) && seen.add(key);
  });
}

/** Every use of `contract` aimed at `service`. */
export function usesOf(contract: ConsumerContract, service: string): ConsumedOperation[] {
  return contract.uses.filter((use) => use.service === service);
}
