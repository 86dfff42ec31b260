import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Read model of a release, folded from the log by ReleaseProjection. */
@Entity({ name: 'releases' })
@Index('releases_service', ['service'])
export class ReleaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 100 })
  service!: string;

  @Column({ name: 'artifact_name', type: 'varchar', length: 256 })
  artifactName!: string;

  @Column({ name: 'artifact_digest', type: 'varchar', length: 80 })
  artifactDigest!: string;

  @Column({ type: 'varchar', length: 20 })
  strategy!: string;

  @Column({ type: 'varchar', length: 20 })
  status!: string;

  @Column({ name: 'requested_by', type: 'varchar', length: 200 })
  requestedBy!: string;

  @Column({ name: 'requested_at', type: 'varchar', length: 30 })
  requestedAt!: string;

  @Column({ name: 'updated_at', type: 'varchar', length: 30 })
  updatedAt!: string;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason!: string | null;

  /** Sequence of the last event folded in: a redelivered or re-published event is ignored. */
  @Column({ name: 'last_sequence', type: 'integer' })
  lastSequence!: number;
}
