import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An analysis run in progress or done; its intervals are events in the stream `analysis:<id>`. */
@Entity({ name: 'analysis_runs' })
export class AnalysisRunEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 200 })
  runId!: string;

  /** JSON of the AnalysisRequested data. */
  @Column({ type: 'text' })
  request!: string;

  @Column({ name: 'started_at', type: 'varchar', length: 30 })
  startedAt!: string;

  /** JSON of the metric source's cumulative counters when the run started; null if unreadable. */
  @Column({ name: 'start_counters', type: 'text', nullable: true })
  startCounters!: string | null;

  @Column({ type: 'boolean' })
  done!: boolean;
}
