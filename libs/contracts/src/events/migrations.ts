import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

export interface MigrationPlannedV1 {
  migrationId: string;
  service: string;
  database: string;
  operations: number;
  /** The accepted plan (libs/migrations-domain MigrationPlan): the aggregate replays phases from it. */
  plan?: Record<string, unknown>;
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
      plan: { type: 'object', nullable: true, required: [], additionalProperties: true },
    },
    required: ['migrationId', 'service', 'database', 'operations'],
    additionalProperties: false,
  },
});

const PHASES = ['expand', 'migrate', 'contract', 'rollback'] as const;
export type MigrationPhase = (typeof PHASES)[number];

export interface MigrationPhaseStartedV1 {
  migrationId: string;
  phase: MigrationPhase;
}

export const MigrationPhaseStartedV1 = defineEvent<
  MigrationPhaseStartedV1,
  'MigrationPhaseStarted'
>({
  type: 'MigrationPhaseStarted',
  version: 1,
  topic: TOPICS.migrations,
  description:
    'A phase of a migration (expand, migrate, contract or rollback) began on the target database.',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      phase: { type: 'string', enum: PHASES },
    },
    required: ['migrationId', 'phase'],
    additionalProperties: false,
  },
});

export interface MigrationPhaseCompletedV1 {
  migrationId: string;
  phase: MigrationPhase;
  /** SQL statements the phase ran. */
  statements: number;
  /** Lock timeouts the phase lost and retried after backoff. */
  lockRetries: number;
}

export const MigrationPhaseCompletedV1 = defineEvent<
  MigrationPhaseCompletedV1,
  'MigrationPhaseCompleted'
>({
  type: 'MigrationPhaseCompleted',
  version: 1,
  topic: TOPICS.migrations,
  description:
    'A phase finished: after migrate both application versions are served; after contract the old shape is gone; after rollback the expand is undone.',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      phase: { type: 'string', enum: PHASES },
      statements: { type: 'integer', minimum: 0 },
      lockRetries: { type: 'integer', minimum: 0 },
    },
    required: ['migrationId', 'phase', 'statements', 'lockRetries'],
    additionalProperties: false,
  },
});

export interface MigrationBackfillProgressedV1 {
  migrationId: string;
  table: string;
  rowsDone: number;
  rowsTotal: number;
}

export const MigrationBackfillProgressedV1 = defineEvent<
  MigrationBackfillProgressedV1,
  'MigrationBackfillProgressed'
>({
  type: 'MigrationBackfillProgressed',
  version: 1,
  topic: TOPICS.migrations,
  description:
    'The backfill of one table advanced (rows done of the rows that existed when it began).',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      table: { type: 'string', minLength: 1 },
      rowsDone: { type: 'integer', minimum: 0 },
      rowsTotal: { type: 'integer', minimum: 0 },
    },
    required: ['migrationId', 'table', 'rowsDone', 'rowsTotal'],
    additionalProperties: false,
  },
});

export interface MigrationContractRefusedV1 {
  migrationId: string;
  reason: string;
  blocking: { id: string; version: string | null; reason: string }[];
}

export const MigrationContractRefusedV1 = defineEvent<
  MigrationContractRefusedV1,
  'MigrationContractRefused'
>({
  type: 'MigrationContractRefused',
  version: 1,
  topic: TOPICS.migrations,
  description:
    'Contract was refused: live instances still run a version that needs (or may need) the old schema.',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      reason: { type: 'string', minLength: 1 },
      blocking: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            version: { type: 'string', nullable: true } as never,
            reason: { type: 'string' },
          },
          required: ['id', 'version', 'reason'],
          additionalProperties: false,
        },
      },
    },
    required: ['migrationId', 'reason', 'blocking'],
    additionalProperties: false,
  },
});

export interface MigrationFailedV1 {
  migrationId: string;
  phase: MigrationPhase;
  error: string;
}

export const MigrationFailedV1 = defineEvent<MigrationFailedV1, 'MigrationFailed'>({
  type: 'MigrationFailed',
  version: 1,
  topic: TOPICS.migrations,
  description:
    'A phase stopped on an error (for example lock timeouts exhausted); it can be started again where it stopped, or rolled back before contract.',
  schema: {
    type: 'object',
    properties: {
      migrationId: { type: 'string', minLength: 1 },
      phase: { type: 'string', enum: PHASES },
      error: { type: 'string', minLength: 1 },
    },
    required: ['migrationId', 'phase', 'error'],
    additionalProperties: false,
  },
});
