import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Read model of a flag project: the pure fold (flags-domain) stored as JSON, with its version. */
@Entity({ name: 'flag_projects' })
export class FlagProjectEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  name!: string;

  /** Ruleset version: the sequence of the last event folded in; a repeat is ignored. */
  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'block_releases_on_expired', type: 'boolean' })
  blockReleasesOnExpired!: boolean;

  /** JSON of ProjectFlagsState. */
  @Column({ type: 'text' })
  state!: string;
}

/** One row per flag ever created, live or retired: what list, stale and blocking queries read. */
@Entity({ name: 'flag_summaries' })
@Index('flag_summaries_expires_at', ['expiresAt'])
export class FlagSummaryEntity {
  @PrimaryColumn({ type: 'varchar', length: 100 })
  project!: string;

  @PrimaryColumn({ type: 'varchar', length: 100 })
  key!: string;

  @Column({ type: 'varchar', length: 20 })
  type!: string;

  @Column({ type: 'varchar', length: 200 })
  owner!: string;

  @Column({ type: 'text' })
  description!: string;

  @Column({ name: 'created_at', type: 'varchar', length: 30 })
  createdAt!: string;

  /** Effective expiry (explicit, or the type's default); null: never. */
  @Column({ name: 'expires_at', type: 'varchar', length: 30, nullable: true })
  expiresAt!: string | null;

  @Column({ name: 'potentially_stale_at', type: 'varchar', length: 30, nullable: true })
  potentiallyStaleAt!: string | null;

  /** Environments where the flag is switched on, comma-separated. */
  @Column({ name: 'enabled_in', type: 'varchar', length: 500 })
  enabledIn!: string;

  /** JSON of the FlagDefinition (for retired flags: as it was when retired). */
  @Column({ type: 'text' })
  definition!: string;

  @Column({ type: 'boolean' })
  retired!: boolean;

  @Column({ name: 'retired_at', type: 'varchar', length: 30, nullable: true })
  retiredAt!: string | null;

  /** Ruleset version of the flag's last change. */
  @Column({ type: 'integer' })
  version!: number;
}
