import { defineEvent, DIGEST_PATTERN, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

/**
 * One field of an operation as the API compatibility gate compares it: `total`, `items[].sku`,
 * `query:limit`, `header:x-tenant`. `types` empty means any type; enum values are JSON texts.
 */
export interface ApiFieldV1 {
  field: string;
  types: string[];
  enum?: string[];
  /** Request fields only: the provider refuses a request without it. */
  required?: boolean;
  /** An object whose properties the document does not list: any field below it is offered. */
  open?: boolean;
}

/** An operation a provider offers (from its OpenAPI document); path parameters read `{}`. */
export interface ProvidedOperationV1 {
  method: string;
  path: string;
  request: ApiFieldV1[];
  response: ApiFieldV1[];
}

export interface ProvidedApiV1 {
  operations: ProvidedOperationV1[];
}

/** A field a consumer sends or reads; `type` and `value` (JSON text) when its contract says. */
export interface ConsumedFieldV1 {
  field: string;
  type?: string;
  value?: string;
}

/** An operation of another service a consumer calls, and what it sends and reads. */
export interface ConsumedOperationV1 {
  service: string;
  method: string;
  path: string;
  sends: ConsumedFieldV1[];
  reads: ConsumedFieldV1[];
}

export interface ConsumerContractV1 {
  uses: ConsumedOperationV1[];
}

export interface ApiDocumentStoredV1 {
  digest: string;
  service: string;
  kind: 'openapi' | 'consumer-contract';
  /** What was sent: an OpenAPI 3 document, a Pact file or Rollgate's own contract format. */
  format: 'openapi' | 'pact' | 'rollgate';
  provides?: ProvidedApiV1;
  consumes?: ConsumerContractV1;
}

const NAME = { type: 'string', minLength: 1, maxLength: 200 } as const;
const METHOD = { type: 'string', pattern: '^[A-Z]{3,7}$' } as const;
const PATH = { type: 'string', minLength: 1, maxLength: 500 } as const;

const apiFieldSchema = {
  type: 'object',
  properties: {
    field: NAME,
    types: { type: 'array', items: { type: 'string', maxLength: 10 }, maxItems: 7 },
    enum: {
      type: 'array',
      items: { type: 'string', maxLength: 500 },
      maxItems: 500,
      nullable: true,
    },
    required: { type: 'boolean', nullable: true },
    open: { type: 'boolean', nullable: true },
  },
  required: ['field', 'types'],
  additionalProperties: false,
} as const;

const consumedFieldSchema = {
  type: 'object',
  properties: {
    field: NAME,
    type: { type: 'string', maxLength: 10, nullable: true },
    value: { type: 'string', maxLength: 500, nullable: true },
  },
  required: ['field'],
  additionalProperties: false,
} as const;

export const ApiDocumentStoredV1 = defineEvent<ApiDocumentStoredV1, 'ApiDocumentStored'>({
  type: 'ApiDocumentStored',
  version: 1,
  topic: TOPICS.releases,
  description:
    'An API document a build declares (what it provides, or what it consumes) was stored under the digest of its canonical JSON, reduced to what the API compatibility gate compares.',
  schema: {
    type: 'object',
    properties: {
      digest: { type: 'string', pattern: DIGEST_PATTERN },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      kind: { type: 'string', enum: ['openapi', 'consumer-contract'] },
      format: { type: 'string', enum: ['openapi', 'pact', 'rollgate'] },
      provides: {
        type: 'object',
        properties: {
          operations: {
            type: 'array',
            maxItems: 2000,
            items: {
              type: 'object',
              properties: {
                method: METHOD,
                path: PATH,
                request: { type: 'array', items: apiFieldSchema, maxItems: 2000 },
                response: { type: 'array', items: apiFieldSchema, maxItems: 2000 },
              },
              required: ['method', 'path', 'request', 'response'],
              additionalProperties: false,
            },
          },
        },
        required: ['operations'],
        additionalProperties: false,
        nullable: true,
      },
      consumes: {
        type: 'object',
        properties: {
          uses: {
            type: 'array',
            maxItems: 500,
            items: {
              type: 'object',
              properties: {
                service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
                method: METHOD,
                path: PATH,
                sends: { type: 'array', items: consumedFieldSchema, maxItems: 500 },
                reads: { type: 'array', items: consumedFieldSchema, maxItems: 500 },
              },
              required: ['service', 'method', 'path', 'sends', 'reads'],
              additionalProperties: false,
            },
          },
        },
        required: ['uses'],
        additionalProperties: false,
        nullable: true,
      },
    },
    required: ['digest', 'service', 'kind', 'format'],
    additionalProperties: false,
  },
});

export type ApiGateVerdict = 'compatible' | 'breaking' | 'unchecked';
export type ApiGatePolicy = 'refuse' | 'hold';

/** What the API compatibility gate found for a release, at its request or before a step. */
export interface ReleaseApiGateCheckedV1 {
  releaseId: string;
  service: string;
  /** The step about to start (-1: at the request); with `rollback`, the step rolled back from. */
  step: number;
  verdict: ApiGateVerdict;
  policy: ApiGatePolicy;
  /** One sentence per break: who removes what, read by whom, on how many instances. */
  findings: string[];
  /** What could not be checked (builds that declare no API, instances that did not report). */
  notes: string[];
  /** The check of a rollback: going back to the stable build's API. */
  rollback?: boolean;
}

const releaseRef = {
  releaseId: { type: 'string', minLength: 1 },
  service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
} as const;

const sentences = {
  type: 'array',
  items: { type: 'string', maxLength: 2000 },
  maxItems: 200,
} as const;

export const ReleaseApiGateCheckedV1 = defineEvent<
  ReleaseApiGateCheckedV1,
  'ReleaseApiGateChecked'
>({
  type: 'ReleaseApiGateChecked',
  version: 1,
  topic: TOPICS.releases,
  description:
    'The API compatibility gate compared a release with the consumer and provider versions that are live; a breaking verdict holds the release unless it was overridden.',
  schema: {
    type: 'object',
    properties: {
      ...releaseRef,
      step: { type: 'integer', minimum: -1 },
      verdict: { type: 'string', enum: ['compatible', 'breaking', 'unchecked'] },
      policy: { type: 'string', enum: ['refuse', 'hold'] },
      findings: sentences,
      notes: sentences,
      rollback: { type: 'boolean', nullable: true },
    },
    required: ['releaseId', 'service', 'step', 'verdict', 'policy', 'findings', 'notes'],
    additionalProperties: false,
  },
});

/** A person released (or rolled back) despite breaking findings; the envelope's actor is who. */
export interface ReleaseApiGateOverriddenV1 {
  releaseId: string;
  service: string;
  reason: string;
  findings: string[];
}

export const ReleaseApiGateOverriddenV1 = defineEvent<
  ReleaseApiGateOverriddenV1,
  'ReleaseApiGateOverridden'
>({
  type: 'ReleaseApiGateOverridden',
  version: 1,
  topic: TOPICS.releases,
  description:
    'The API compatibility gate was overridden (force with a reason): the release goes on despite the findings it lists.',
  schema: {
    type: 'object',
    properties: {
      ...releaseRef,
      reason: { type: 'string', minLength: 1, maxLength: 1000 },
      findings: sentences,
    },
    required: ['releaseId', 'service', 'reason', 'findings'],
    additionalProperties: false,
  },
});
