import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An analysis run in progress or done; its intervals are events in the stream `analysis:<id>`. */
@Entity({ name: 'analysis_runs' })
export class AnalysisRunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 200 })
  runId!: string;

  /** JSON of the AnalysisRequested data. */
  @Column({ type: 'text' })
  request!: string;

  /** When the interval in progress began: the run's start, then the end of the last one. */
  @Column({ name: 'started_at', type: 'varchar', length: 30 })
  intervalStartedAt!: string;

  /** The metric source's cursor where the interval in progress began; null if unreadable. */
  @Column({ name: 'start_counters', type: 'text', nullable: true })
  cursor!: string | null;

  @Column({ type: 'boolean' })
  done!: boolean;

  /** JSON of the canary config version ({name, version}) that judges it; null: built-in. */
  @Column({ name: 'canary_config', type: 'text', nullable: true })
  canaryConfig!: string | null;
}
