import type { EventEnvelope, NewEvent } from '@rollgate/contracts';
import { DomainError, type Aggregate, type Decision } from '@rollgate/event-sourcing';
import type { MigrationPlan } from './plan';

export type MigrationPhaseName = 'expand' | 'migrate' | 'contract' | 'rollback';

/**
 * planned → expanding → expanded → migrating → migrated (both versions served) → contracting →
 * completed; rolling-back → rolled-back from anything before completed; failed keeps the phase
 * that failed so it can be retried or rolled back.
 */
export type MigrationStatus =
  | 'none'
  | 'planned'
  | 'expanding'
  | 'expanded'
  | 'migrating'
  | 'migrated'
  | 'contracting'
  | 'completed'
  | 'rolling-back'
  | 'rolled-back'
  | 'failed';

export interface Migration {
  migrationId: string;
  service: string;
  database: string;
  plan: MigrationPlan | null;
  status: MigrationStatus;
  /** The phase running or last run (set on failure too). */
  phase: MigrationPhaseName | null;
  backfill: Record<string, { rowsDone: number; rowsTotal: number }>;
  lastError: string | null;
  /** Why the last contract attempt was refused, in words. */
  contractRefusal: string | null;
  lockRetries: number;
  updatedAt: string | null;
}

export const initialMigration = (): Migration => ({
  migrationId: '',
  service: '',
  database: '',
  plan: null,
  status: 'none',
  phase: null,
  backfill: {},
  lastError: null,
  contractRefusal: null,
  lockRetries: 0,
  updatedAt: null,
});

const RUNNING: Record<MigrationPhaseName, MigrationStatus> = {
  expand: 'expanding',
  migrate: 'migrating',
  contract: 'contracting',
  rollback: 'rolling-back',
};
const DONE: Record<MigrationPhaseName, MigrationStatus> = {
  expand: 'expanded',
  migrate: 'migrated',
  contract: 'completed',
  rollback: 'rolled-back',
};

type Data = Record<string, unknown>;

/** Folds one migration's stream. Pure: time only from `occurredAt`. */
export const migrationAggregate: Aggregate<Migration> = {
  name: 'migration',
  initial: initialMigration,
  evolve(state, event: EventEnvelope): Migration {
    const data = event.data as Data;
    const at = { updatedAt: event.occurredAt };
    switch (event.type) {
      case 'MigrationPlanned':
        return {
          ...state,
          ...at,
          migrationId: data['migrationId'] as string,
          service: data['service'] as string,
          database: data['database'] as string,
          plan: (data['plan'] as MigrationPlan | undefined) ?? null,
          status: 'planned',
        };
      case 'MigrationPhaseStarted': {
        const phase = data['phase'] as MigrationPhaseName;
        return { ...state, ...at, phase, status: RUNNING[phase], lastError: null };
      }
      case 'MigrationPhaseCompleted': {
        const phase = data['phase'] as MigrationPhaseName;
        const retries = (data['lockRetries'] as number | undefined) ?? 0;
        return {
          ...state,
          ...at,
          phase,
          status: DONE[phase],
          lockRetries: state.lockRetries + retries,
          contractRefusal: phase === 'contract' ? null : state.contractRefusal,
        };
      }
      case 'MigrationBackfillProgressed':
        return {
          ...state,
          ...at,
          backfill: {
            ...state.backfill,
            [data['table'] as string]: {
              rowsDone: data['rowsDone'] as number,
              rowsTotal: data['rowsTotal'] as number,
            },
          },
        };
      case 'MigrationContractRefused':
        return { ...state, ...at, contractRefusal: data['reason'] as string };
      case 'MigrationFailed':
        return {
          ...state,
          ...at,
          status: 'failed',
          phase: data['phase'] as MigrationPhaseName,
          lastError: data['error'] as string,
        };
      default:
        return state;
    }
  },
};

export const migrationStreamId = (migrationId: string): string => `migration-${migrationId}`;

export interface Origin {
  actor: string;
  causationId: string | null;
}

function event(
  type: string,
  m: { migrationId: string; service: string },
  origin: Origin,
  data: object,
): NewEvent {
  return {
    type,
    version: 1,
    actor: origin.actor,
    correlationId: m.migrationId,
    causationId: origin.causationId,
    key: m.service,
    data: { migrationId: m.migrationId, ...data },
  };
}

export function decidePlan(
  state: Migration,
  command: { migrationId: string; database: string; plan: MigrationPlan },
  origin: Origin,
): Decision {
  if (state.status !== 'none')
    throw new DomainError('conflict', `migration ${command.migrationId} already exists`);
  const m = { migrationId: command.migrationId, service: command.plan.service };
  return [
    event('MigrationPlanned', m, origin, {
      service: command.plan.service,
      database: command.database,
      operations: command.plan.operations.length,
      plan: command.plan,
    }),
  ];
}

/** Which phase may start from which status: failed phases may be retried where they failed. */
export function decideStartPhase(
  state: Migration,
  phase: MigrationPhaseName,
  origin: Origin,
): Decision {
  mustExist(state);
  const allowed: Record<MigrationPhaseName, MigrationStatus[]> = {
    expand: ['planned'],
    migrate: ['expanded'],
    contract: ['migrated'],
    rollback: ['planned', 'expanding', 'expanded', 'migrating', 'migrated', 'rolling-back'],
  };
  const retry = state.status === 'failed' && state.phase === phase;
  const failedBeforeContract =
    phase === 'rollback' && state.status === 'failed' && state.phase !== 'contract';
  if (!allowed[phase].includes(state.status) && !retry && !failedBeforeContract) {
    const why =
      phase === 'rollback' && (state.status === 'completed' || state.phase === 'contract')
        ? 'contract has run: the old shape is gone, roll forward with a new migration instead'
        : `it is ${state.status}`;
    throw new DomainError('conflict', `migration ${state.migrationId} cannot ${phase}: ${why}`, {
      status: state.status,
    });
  }
  return [event('MigrationPhaseStarted', state, origin, { phase })];
}

export function decidePhaseCompleted(
  state: Migration,
  phase: MigrationPhaseName,
  report: { statements: number; lockRetries: number },
  origin: Origin,
): Decision {
  mustExist(state);
  if (state.status !== RUNNING[phase]) return [];
  return [event('MigrationPhaseCompleted', state, origin, { phase, ...report })];
}

export function decideFailed(
  state: Migration,
  phase: MigrationPhaseName,
  error: string,
  origin: Origin,
): Decision {
  mustExist(state);
  if (state.status !== RUNNING[phase]) return [];
  return [event('MigrationFailed', state, origin, { phase, error: error.slice(0, 2000) })];
}

export function decideBackfillProgress(
  state: Migration,
  progress: { table: string; rowsDone: number; rowsTotal: number },
  origin: Origin,
): Decision {
  mustExist(state);
  return [event('MigrationBackfillProgressed', state, origin, progress)];
}

export function decideContractRefused(
  state: Migration,
  refusal: { reason: string; blocking: { id: string; version: string | null; reason: string }[] },
  origin: Origin,
): Decision {
  mustExist(state);
  if (state.contractRefusal === refusal.reason) return [];
  return [event('MigrationContractRefused', state, origin, refusal)];
}

function mustExist(state: Migration): void {
  if (state.status === 'none') throw new DomainError('not-found', 'migration not found');
}
