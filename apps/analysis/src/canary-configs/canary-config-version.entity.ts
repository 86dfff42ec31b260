import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Every version of every canary config, written with its CanaryConfigChanged event in one
 * transaction. Versions are never changed: the one in force at a moment is the last one applied
 * at or before it.
 */
@Entity({ name: 'canary_config_versions' })
@Index('canary_config_versions_in_force', ['name', 'appliedAt'])
export class CanaryConfigVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  name!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** JSON of the config document. */
  @Column({ type: 'text' })
  document!: string;

  /** The event's occurredAt (ISO 8601, UTC): the version is in force from then on. */
  @Column({ name: 'applied_at', type: 'varchar', length: 30 })
  appliedAt!: string;

  /** The event's actor, e.g. `user:alice`. */
  @Column({ name: 'applied_by', type: 'varchar', length: 200 })
  appliedBy!: string;

  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId!: string;
}
