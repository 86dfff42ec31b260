import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { migrationAggregate, type Migration } from '@rollgate/migrations-domain';
import type { AuditSubject } from './replay';

/**
 * A schema migration replayed with the Migration aggregate's own fold, so `rollgate replay
 * --migration ID --at T` shows the phase (planned, expanding, migrated, completed, ...) it had then.
 */
export type MigrationAuditState = Migration & { operations: number };

export function migrationSubject(migrationId: string): AuditSubject<MigrationAuditState> {
  return {
    kind: 'migration',
    id: migrationId,
    topics: [TOPICS.migrations.name],
    belongs: (event: EventEnvelope) =>
      event.correlationId === migrationId ||
      (event.data as { migrationId?: unknown } | null)?.migrationId === migrationId,
    initial: () => ({ ...migrationAggregate.initial(), operations: 0 }),
    evolve: (state, event) => ({
      ...migrationAggregate.evolve(state, event),
      operations:
        event.type === 'MigrationPlanned'
          ? Number((event.data as { operations?: unknown }).operations ?? 0)
          : state.operations,
    }),
    describe: (event) => {
      const data = event.data as Record<string, unknown>;
      const phase = typeof data['phase'] === 'string' ? ` ${data['phase']}` : '';
      return {
        summary: `${event.type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()}${phase}`,
        reason:
          typeof data['reason'] === 'string'
            ? data['reason']
            : typeof data['error'] === 'string'
              ? data['error']
              : null,
        details: { ...data, plan: undefined },
      };
    },
    digest: (state) => ({
      service: state.service,
      database: state.database,
      name: state.plan?.name ?? '',
      operations: String(state.operations),
      status: state.status,
      phase: state.phase ?? '',
      ...Object.fromEntries(
        Object.entries(state.backfill).map(([table, p]) => [
          `backfill.${table}`,
          `${p.rowsDone}/${p.rowsTotal}`,
        ]),
      ),
      lockRetries: String(state.lockRetries),
      contractRefusal: state.contractRefusal ?? '',
      lastError: state.lastError ?? '',
    }),
  };
}
