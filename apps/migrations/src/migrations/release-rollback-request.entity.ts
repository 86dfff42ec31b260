import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A `ReleaseRolledBack` heard but not yet acted on. Written in the consumer's transaction with its
 * checkpoint, deleted once every migration it concerns is rolled back or definitely unconcerned:
 * an orchestrator that cannot be asked, or a crash, delays the rollback but never loses it.
 */
@Entity({ name: 'migration_release_rollbacks' })
export class ReleaseRollbackRequestEntity {
  /** Id of the ReleaseRolledBack event: a redelivery is the same request. */
  @PrimaryColumn({ name: 'event_id', type: 'varchar', length: 64 })
  eventId!: string;

  @Column({ type: 'varchar', length: 100 })
  service!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 100 })
  releaseId!: string;

  @Column({ name: 'occurred_at', type: 'varchar', length: 30 })
  occurredAt!: string;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;
}
