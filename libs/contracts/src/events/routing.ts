import {
  defineEvent,
  SERVICE_NAME_PATTERN,
  VERSION_GROUPS,
  type VersionGroup,
} from '../definition';
import { TOPICS } from '../topics';

export interface RouteAppliedV1 {
  service: string;
  /** Percent of traffic per version group (stable, baseline, canary, blue, green); sums to 100. */
  weights: Record<string, number>;
  dataPlane: string;
  /** The RouteChangeRequested this answers, when it answers one. */
  requestId?: string;
  releaseId?: string;
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
      requestId: { type: 'string', minLength: 1, nullable: true },
      releaseId: { type: 'string', minLength: 1, nullable: true },
    },
    required: ['service', 'weights', 'dataPlane'],
    additionalProperties: false,
  },
});

export interface RouteBackend {
  instanceId: string;
  group: VersionGroup;
  host: string;
  port: number;
}

/** The orchestrator asks the router to route a service with these weights over these instances. */
export interface RouteChangeRequestedV1 {
  requestId: string;
  releaseId: string;
  service: string;
  weights: Record<string, number>;
  backends: RouteBackend[];
  /** Request header whose value keeps a user in one group (e.g. x-user-id), if any. */
  stickyHeader?: string;
}

export const RouteChangeRequestedV1 = defineEvent<RouteChangeRequestedV1, 'RouteChangeRequested'>({
  type: 'RouteChangeRequested',
  version: 1,
  topic: TOPICS.routing,
  description:
    'A release needs new weights; the router answers with RouteApplied or RouteApplyFailed.',
  schema: {
    type: 'object',
    properties: {
      requestId: { type: 'string', minLength: 1 },
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      weights: {
        type: 'object',
        required: [],
        additionalProperties: { type: 'integer', minimum: 0, maximum: 100 },
      },
      backends: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            instanceId: { type: 'string', minLength: 1 },
            group: { type: 'string', enum: [...VERSION_GROUPS] },
            host: { type: 'string', minLength: 1 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
          },
          required: ['instanceId', 'group', 'host', 'port'],
          additionalProperties: false,
        },
      },
      stickyHeader: { type: 'string', minLength: 1, nullable: true },
    },
    required: ['requestId', 'releaseId', 'service', 'weights', 'backends'],
    additionalProperties: false,
  },
});

/** The data plane could not confirm the weights: the release holds, then rolls back. */
export interface RouteApplyFailedV1 {
  requestId: string;
  releaseId: string;
  service: string;
  dataPlane: string;
  reason: string;
}

export const RouteApplyFailedV1 = defineEvent<RouteApplyFailedV1, 'RouteApplyFailed'>({
  type: 'RouteApplyFailed',
  version: 1,
  topic: TOPICS.routing,
  description: 'The data plane did not confirm a route change.',
  schema: {
    type: 'object',
    properties: {
      requestId: { type: 'string', minLength: 1 },
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      dataPlane: { type: 'string', minLength: 1 },
      reason: { type: 'string', minLength: 1 },
    },
    required: ['requestId', 'releaseId', 'service', 'dataPlane', 'reason'],
    additionalProperties: false,
  },
});

/** The header the orchestrator asks routes to be sticky by, so one user sees one version. */
export const USER_STICKY_HEADER = 'x-user-id';
