import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Read model of a migration: the aggregate's fold stored as JSON, with keys to query. */
@Entity({ name: 'schema_migrations' })
@Index('schema_migrations_service', ['service'])
export class MigrationEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  service!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;

  @Column({ name: 'planned_at', type: 'varchar', length: 30 })
  plannedAt!: string;

  /** JSON of the Migration fold. */
  @Column({ type: 'text' })
  summary!: string;

  /** Sequence of the last event folded in: repeats are ignored. */
  @Column({ name: 'last_sequence', type: 'integer' })
  lastSequence!: number;
}
