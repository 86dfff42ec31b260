import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Read model of a release: the pure summary fold (libs/releases) stored as JSON, with keys to query. */
@Entity({ name: 'releases' })
@Index('releases_service', ['service'])
export class ReleaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  service!: string;

  @Column({ type: 'varchar', length: 20 })
  phase!: string;

  @Column({ name: 'requested_at', type: 'varchar', length: 30 })
  requestedAt!: string;

  @Column({ name: 'requested_by', type: 'varchar', length: 200 })
  requestedBy!: string;

  /** JSON of the Release summary. */
  @Column({ type: 'text' })
  summary!: string;

  /** Sequence of the last event folded in: a redelivered or re-published event is ignored. */
  @Column({ name: 'last_sequence', type: 'integer' })
  lastSequence!: number;
}
