import type { DataSource } from 'typeorm';
import type { OutcomeBatch } from '@rollgate/flags-domain/project';

/** One stored report: an `OutcomeBatch` with its row id (arrival order). */
export interface StoredOutcome extends OutcomeBatch {
  readonly id: number;
}

export interface OutcomeReport {
  readonly project: string;
  readonly flagKey: string;
  readonly environment: string;
  readonly rampId: string;
  readonly step: number;
  readonly batches: readonly OutcomeBatch[];
  readonly receivedAt: Date;
}

const TABLE = 'flag_outcomes';

/**
 * What applications reported (SDK `track`) for flags under guarded rollout, one row per cohort
 * and flush, tagged with the ramp step in force when it arrived. Rows are appended, never
 * updated, so the reports of every SDK and every replica add up.
 *
 * Operational data, not a read model: it is not derived from events, so it has no entity in the
 * service's persistence (an audit rebuild would expect to rebuild it) and is reached through the
 * query builder by table name. The table comes from a committed migration.
 */
export class OutcomeStore {
  constructor(private readonly dataSource: DataSource) {}

  async append(report: OutcomeReport): Promise<void> {
    const rows = report.batches.map((batch) => ({
      project: report.project,
      flag_key: report.flagKey,
      environment: report.environment,
      ramp_id: report.rampId,
      step: report.step,
      cohort: batch.cohort,
      requests: batch.requests,
      errors: Math.min(batch.errors, batch.requests),
      latencies_ms: JSON.stringify(batch.latenciesMs),
      received_at: report.receivedAt.toISOString(),
    }));
    if (rows.length === 0) return;
    // Without an entity the builder needs the column list spelled out.
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(TABLE, Object.keys(rows[0]!))
      .values(rows)
      .execute();
  }

  /**
   * Removes reports older than `receivedBefore` except those of the steps still being judged:
   * a step that was decided, or a ramp that ended, needs its reports no more.
   */
  async prune(judging: readonly { rampId: string; step: number }[], receivedBefore: Date) {
    const params: Record<string, string | number> = { before: receivedBefore.toISOString() };
    const kept = judging.map(({ rampId, step }, i) => {
      params[`r${i}`] = rampId;
      params[`s${i}`] = step;
      return `NOT (ramp_id = :r${i} AND step = :s${i})`;
    });
    await this.dataSource
      .createQueryBuilder()
      .delete()
      .from(TABLE)
      .where(['received_at < :before', ...kept].join(' AND '), params)
      .execute();
  }

  /** Every report of one ramp step, in arrival order. */
  async ofStep(rampId: string, step: number): Promise<StoredOutcome[]> {
    const rows = await this.dataSource
      .createQueryBuilder()
      .select(['o.id AS id', 'o.cohort AS cohort', 'o.requests AS requests', 'o.errors AS errors'])
      .addSelect('o.latencies_ms', 'latencies')
      .from(TABLE, 'o')
      .where('o.ramp_id = :rampId AND o.step = :step', { rampId, step })
      .orderBy('o.id', 'ASC')
      .getRawMany<{
        id: number | string;
        cohort: 'on' | 'off';
        requests: number | string;
        errors: number | string;
        latencies: string;
      }>();
    return rows.map((row) => ({
      id: Number(row.id),
      cohort: row.cohort,
      requests: Number(row.requests),
      errors: Number(row.errors),
      latenciesMs: JSON.parse(row.latencies) as number[],
    }));
  }
}
