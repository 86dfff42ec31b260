import { defineEvent } from '../definition';
import { TOPICS } from '../topics';

export type FlagType = 'release' | 'experiment' | 'operational' | 'kill-switch' | 'permission';

export interface FlagCreatedV1 {
  project: string;
  flagKey: string;
  flagType: FlagType;
  owner: string;
  description: string;
}

export const FlagCreatedV1 = defineEvent<FlagCreatedV1, 'FlagCreated'>({
  type: 'FlagCreated',
  version: 1,
  topic: TOPICS.flags,
  description: 'A feature flag was created (off in every environment).',
  schema: {
    type: 'object',
    properties: {
      project: { type: 'string', minLength: 1 },
      flagKey: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$' },
      flagType: {
        type: 'string',
        enum: ['release', 'experiment', 'operational', 'kill-switch', 'permission'],
      },
      owner: { type: 'string', minLength: 1 },
      description: { type: 'string' },
    },
    required: ['project', 'flagKey', 'flagType', 'owner', 'description'],
    additionalProperties: false,
  },
});
