import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Every version of every service policy, written with its ServicePolicyChanged event in one
 * transaction. Versions never change: the one in force at a moment is the last applied at or
 * before it.
 */
@Entity({ name: 'service_policy_versions' })
@Index('service_policy_versions_in_force', ['service', 'appliedAt'])
export class ServicePolicyVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 63 })
  service!: string;

  @PrimaryColumn({ type: 'integer' })
  version!: number;

  /** JSON of the policy document as applied. */
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
