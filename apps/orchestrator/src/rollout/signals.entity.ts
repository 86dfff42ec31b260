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

/** An analysis run asked for larger canary and baseline shares (low traffic; one per run). */
@Entity({ name: 'share_raise_requests' })
export class ShareRaiseRequestEntity {
  @PrimaryColumn({ name: 'analysis_run_id', type: 'varchar', length: 200 })
  analysisRunId!: string;

  @Column({ name: 'release_id', type: 'varchar', length: 64 })
  releaseId!: string;

  @Column({ type: 'integer' })
  step!: number;

  @Column({ name: 'from_percent', type: 'real' })
  fromPercent!: number;

  @Column({ name: 'to_percent', type: 'real' })
  toPercent!: number;

  @Column({ type: 'text' })
  reason!: string;
}
