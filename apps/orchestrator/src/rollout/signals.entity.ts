import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How the router answered a route request: confirmed by the data plane, or not. */
@Entity({ name: 'route_answers' })
export class RouteAnswerEntity {
  @PrimaryColumn({ name: 'request_id', type: 'varchar', length: 200 })
  requestId!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 64 })
  releaseId!: string;

  @Column({ type: 'varchar', length: 10 })
  outcome!: 'applied' | 'failed';

  @Column({ type: 'text', nullable: true })
  reason!: string | null;
}

/** The verdict an analysis run reached for a release step. */
@Entity({ name: 'analysis_verdicts' })
export class AnalysisVerdictEntity {
  @PrimaryColumn({ name: 'analysis_run_id', type: 'varchar', length: 200 })
  analysisRunId!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 64 })
  releaseId!: string;

  @Column({ type: 'varchar', length: 10 })
  verdict!: string;

  /** JSON array of reasons. */
  @Column({ type: 'text' })
  reasons!: string;
}
