import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

export interface MigrationPlannedV1 {
  migrationId: string;
  service: string;
  database: string;
  operations: number;
}

export const MigrationPlannedV1 = defineEvent<MigrationPlannedV1, 'MigrationPlanned'>({
  type: 'MigrationPlanned',
  version: 1,
  topic: TOPICS.migrations,
  description: 'A declarative migration plan was accepted for a target database.',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      database: { type: 'string', minLength: 1 },
      operations: { type: 'integer', minimum: 1 },
    },
    required: ['migrationId', 'service', 'database', 'operations'],
    additionalProperties: false,
  },
});
