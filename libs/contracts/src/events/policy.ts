import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

/**
 * What a service's policy allows when its traffic is too low to compare canary and baseline.
 * Every field is optional: what is left out keeps the built-in behaviour.
 */
export interface LowTrafficChoicesV1 {
  /** Requests per group per interval below which the interval counts as low traffic. */
  minimumRequests?: number;
  /** How many times the step's window may be extended (window ceiling = stepSeconds × factor). */
  maxWindowFactor?: number;
  /** Raise the canary (and the baseline equally) share up to maxPercent (≤ 50) when traffic is low. */
  raiseShare?: { maxPercent: number };
  /** Drive synthetic traffic at canary and baseline equally during analysis. */
  synthetic?: {
    /** Requests per second sent to each of canary and baseline. */
    rps: number;
    /** The request mix; weights are relative (need not sum to 100). */
    mix: { method: SyntheticMethod; path: string; weight: number }[];
  };
  /** `auto` (default): the threshold fallback decides alone; `confirm`: MARGINAL pauses for a person. */
  thresholdFallback?: 'auto' | 'confirm';
}

export const SYNTHETIC_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type SyntheticMethod = (typeof SYNTHETIC_METHODS)[number];

/** JSON schema of LowTrafficChoicesV1, shared by the events that carry it. */
export const lowTrafficSchema = {
  type: 'object',
  properties: {
    minimumRequests: { type: 'integer', minimum: 1, maximum: 1_000_000, nullable: true },
    maxWindowFactor: { type: 'integer', minimum: 1, maximum: 3, nullable: true },
    raiseShare: {
      type: 'object',
      properties: { maxPercent: { type: 'integer', minimum: 1, maximum: 50 } },
      required: ['maxPercent'],
      additionalProperties: false,
      nullable: true,
    },
    synthetic: {
      type: 'object',
      properties: {
        rps: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
        mix: {
          type: 'array',
          minItems: 1,
          maxItems: 50,
          items: {
            type: 'object',
            properties: {
              method: { type: 'string', enum: [...SYNTHETIC_METHODS] },
              path: { type: 'string', pattern: '^/', maxLength: 2000 },
              weight: { type: 'number', exclusiveMinimum: 0 },
            },
            required: ['method', 'path', 'weight'],
            additionalProperties: false,
          },
        },
      },
      required: ['rps', 'mix'],
      additionalProperties: false,
      nullable: true,
    },
    thresholdFallback: { type: 'string', enum: ['auto', 'confirm'], nullable: true },
  },
  required: [],
  additionalProperties: false,
} as const;

/** A service's release policy (rollgate.yaml) was applied: a new version, before and after. */
export interface ServicePolicyChangedV1 {
  service: string;
  /** 1 for the first version, then one more per change. */
  version: number;
  /** The previous version's document; absent for the first version. */
  before?: Record<string, unknown>;
  after: Record<string, unknown>;
}

export const ServicePolicyChangedV1 = defineEvent<ServicePolicyChangedV1, 'ServicePolicyChanged'>({
  type: 'ServicePolicyChanged',
  version: 1,
  topic: TOPICS.releases,
  description:
    'A service release policy (default strategy and plan, canary config, owners, flag rule, notifications, low-traffic choices) got a new version; releases requested from now on take their defaults from it.',
  schema: {
    type: 'object',
    properties: {
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      version: { type: 'integer', minimum: 1 },
      before: { type: 'object', nullable: true, required: [], additionalProperties: true },
      after: { type: 'object', required: [], additionalProperties: true },
    },
    required: ['service', 'version', 'after'],
    additionalProperties: false,
  },
});
