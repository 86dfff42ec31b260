import type {
  ApiFieldV1,
  ConsumedFieldV1,
  ConsumedOperationV1,
  ConsumerContractV1,
  ProvidedApiV1,
  ProvidedOperationV1,
} from '@rollgate/contracts';

/** The shapes the gate compares are the ones the log stores (`ApiDocumentStored`). */
export type ApiField = ApiFieldV1;
export type ProvidedOperation = ProvidedOperationV1;
export type ProvidedApi = ProvidedApiV1;
export type ConsumedField = ConsumedFieldV1;
export type ConsumedOperation = ConsumedOperationV1;
export type ConsumerContract = ConsumerContractV1;

export const JSON_TYPES = [
  'string',
  'number',
  'integer',
  'boolean',
  'object',
  'array',
  'null',
] as const;
export type JsonType = (typeof JSON_TYPES)[number];

export const HTTP_METHODS = [
  'GET',
  'PUT',
  'POST',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'TRACE',
] as const;

/** A field named where an input went wrong, like the API's 400 details. */
export interface InputProblem {
  field: string;
  problem: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: InputProblem[] };

/**
 * Bounds on what one document may expand to: documents come from pipelines and may be large or
 * hostile, and what is kept travels on the log.
 */
export const LIMITS = {
  operations: 2000,
  fieldsPerOperation: 2000,
  depth: 10,
  uses: 500,
  fieldsPerUse: 500,
  fieldName: 200,
  path: 500,
  enumValues: 500,
  valueText: 500,
} as const;

/** How a value looks in a finding and on the log: its JSON text, cut to the limit. */
export function valueText(value: unknown): string {
  return JSON.stringify(value).slice(0, LIMITS.valueText);
}
