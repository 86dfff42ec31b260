import { artifactSchema, defineEvent, SERVICE_NAME_PATTERN, type ArtifactRef } from '../definition';
import { TOPICS } from '../topics';

export type ReleaseStrategy = 'rolling' | 'blue-green' | 'canary';

export interface ReleaseRequestedV1 {
  releaseId: string;
  service: string;
  artifact: ArtifactRef;
  strategy: ReleaseStrategy;
}

export const ReleaseRequestedV1 = defineEvent<ReleaseRequestedV1, 'ReleaseRequested'>({
  type: 'ReleaseRequested',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release of a digest-pinned artifact to a service was accepted.',
  schema: {
    type: 'object',
    properties: {
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      artifact: artifactSchema,
      strategy: { type: 'string', enum: ['rolling', 'blue-green', 'canary'] },
    },
    required: ['releaseId', 'service', 'artifact', 'strategy'],
    additionalProperties: false,
  },
});

export interface ReleaseAbortedV1 {
  releaseId: string;
  service: string;
  reason: string;
}

export const ReleaseAbortedV1 = defineEvent<ReleaseAbortedV1, 'ReleaseAborted'>({
  type: 'ReleaseAborted',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release was stopped before completion; traffic returns to the stable version.',
  schema: {
    type: 'object',
    properties: {
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      reason: { type: 'string', minLength: 1 },
    },
    required: ['releaseId', 'service', 'reason'],
    additionalProperties: false,
  },
});
