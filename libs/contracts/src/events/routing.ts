import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

export interface RouteAppliedV1 {
  service: string;
  /** Percent of traffic per version group (stable, baseline, canary, blue, green); sums to 100. */
  weights: Record<string, number>;
  dataPlane: string;
}

export const RouteAppliedV1 = defineEvent<RouteAppliedV1, 'RouteApplied'>({
  type: 'RouteApplied',
  version: 1,
  topic: TOPICS.routing,
  description: 'A data plane confirmed it now routes with these weights.',
  schema: {
    type: 'object',
    properties: {
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      weights: {
        type: 'object',
        required: [],
        additionalProperties: { type: 'number', minimum: 0, maximum: 100 },
      },
      dataPlane: { type: 'string', minLength: 1 },
    },
    required: ['service', 'weights', 'dataPlane'],
    additionalProperties: false,
  },
});
