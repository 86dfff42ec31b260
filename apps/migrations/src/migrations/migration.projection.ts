import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { eventTypesOn, readModelEvents, type EventLogContext } from '@rollgate/platform';
import { initialMigration, migrationAggregate, type Migration } from '@rollgate/migrations-domain';
import { MigrationEntity } from './migration.entity';

/** Folds migration events into the `schema_migrations` table with the aggregate's own pure fold. */
@Controller()
export class MigrationProjection {
  @EventPattern(readModelEvents('migrations', ...eventTypesOn(TOPICS.migrations)))
  async apply(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    const migrationId = (event.data as { migrationId?: string }).migrationId;
    if (!migrationId) return;
    const repository = context.getManager().getRepository(MigrationEntity);
    const row = await repository.findOneBy({ id: migrationId });
    if (row && row.lastSequence >= (event.sequence ?? 0)) return;
    const before = row ? (JSON.parse(row.summary) as Migration) : initialMigration();
    const after = migrationAggregate.evolve(before, event);
    if (after.status === 'none') return;
    await repository.save({
      id: migrationId,
      service: after.service,
      status: after.status,
      plannedAt: row?.plannedAt ?? event.occurredAt,
      summary: JSON.stringify(after),
      lastSequence: event.sequence ?? 0,
    });
  }
}
