import { Client, Pool, type PoolClient, type QueryConfig } from 'pg';
import {
  compilePlan,
  literal,
  quote,
  statementProblem,
  STATE_SCHEMA,
  type BackfillSpec,
  type MigrationPlan,
  type MigrationProgram,
  type PlanProblem,
  type SchemaSnapshot,
  type Step,
} from '@rollgate/migrations-domain';
import {
  DEFAULT_LOCK_POLICY,
  LockTimeoutExhaustedError,
  sleep,
  withLockRetry,
  type LockPolicy,
  type StepReport,
} from './lock-retry';

export class PlanRejectedError extends Error {
  override readonly name = 'PlanRejectedError';
  constructor(readonly problems: PlanProblem[]) {
    super(`plan refused: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
}

export interface BackfillProgress {
  table: string;
  rowsDone: number;
  rowsTotal: number;
}

export interface PhaseReport {
  steps: StepReport[];
  statements: number;
  lockRetries: number;
}

/** Held while this process runs a phase of one migration; release ends its connection. */
export interface PhaseLock {
  release(): Promise<void>;
}

export interface ExecutorOptions {
  lock?: Partial<LockPolicy>;
  /** Called when a step lost a lock fight and is about to back off. */
  onLockRetry?: (report: StepReport) => void;
}

export interface MigrateOptions {
  batchSize: number;
  pauseMs: number;
  /** Share of time the backfill may keep the database busy (1: only `pauseMs` between batches). */
  dutyCycle?: number;
  onProgress?: (progress: BackfillProgress) => void | Promise<void>;
  /** Stops between batches (a crash stops anywhere: the cursor commits with each batch). */
  signal?: AbortSignal;
}

/**
 * Runs compiled migration programs on one target PostgreSQL database. Every DDL step runs under
 * lock_timeout with capped, jittered retry; backfill walks the primary key in batches whose cursor
 * commits with the batch, so a killed process resumes where it stopped.
 */
export class PgMigrationExecutor {
  readonly pool: Pool;
  private readonly lock: LockPolicy;

  constructor(
    readonly databaseUrl: string,
    private readonly options: ExecutorOptions = {},
  ) {
    this.pool = new Pool({
      connectionString: databaseUrl,
      max: 4,
      application_name: 'rollgate-migrations',
    });
    this.pool.on('error', () => undefined);
    this.lock = { ...DEFAULT_LOCK_POLICY, ...options.lock };
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  /**
   * A session advisory lock on a dedicated connection, held while one process runs a phase of the
   * migration `key`; undefined when another session holds it. A process that dies loses its
   * connection and so the lock: a phase left "running" without a holder was interrupted.
   */
  async tryPhaseLock(key: string): Promise<PhaseLock | undefined> {
    const client = new Client({
      connectionString: this.databaseUrl,
      application_name: 'rollgate-migrations-lock',
    });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`,
        [`rollgate-migration:${key}`],
      );
      if (rows[0]?.locked) return { release: () => client.end() };
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    await client.end();
    return undefined;
  }

  /** Reads the catalog (read-only) and compiles the plan; throws with every problem named. */
  async compile(plan: MigrationPlan): Promise<MigrationProgram> {
    const snapshot = await this.snapshot(plan.schema);
    const result = compilePlan(plan, snapshot);
    if (!result.ok) throw new PlanRejectedError(result.problems);
    const active = await this.activeMigration(plan.schema);
    if (active && active !== plan.name)
      throw new PlanRejectedError([
        {
          field: 'schema',
          message: `migration ${active} is in progress on schema ${plan.schema}: complete or roll it back first`,
        },
      ]);
    return result.program;
  }

  async snapshot(schema: string): Promise<SchemaSnapshot> {
    const columns = await this.pool.query<{
      table: string;
      name: string;
      type: string;
      nullable: boolean;
      default: string | null;
    }>(
      `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
              NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        ORDER BY c.relname, a.attnum`,
      [schema],
    );
    const keys = await this.pool.query<{ table: string; column: string }>(
      `SELECT c.relname AS table, a.attname AS column
         FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
        WHERE n.nspname = $1 AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
      [schema],
    );
    const names = await this.pool.query<{ kind: string; name: string }>(
      `SELECT 'index' AS kind, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'i'
       UNION ALL
       SELECT 'constraint', con.conname FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        WHERE n.nspname = $1`,
      [schema],
    );
    const tables = new Map<string, SchemaSnapshot['tables'][number]>();
    for (const row of columns.rows) {
      const table = tables.get(row.table) ?? { name: row.table, columns: [], primaryKey: [] };
      table.columns.push({
        name: row.name,
        type: row.type,
        nullable: row.nullable,
        default: row.default,
      });
      tables.set(row.table, table);
    }
    for (const key of keys.rows) tables.get(key.table)?.primaryKey.push(key.column);
    return {
      schema,
      tables: [...tables.values()],
      indexes: names.rows.filter((r) => r.kind === 'index').map((r) => r.name),
      constraints: names.rows.filter((r) => r.kind === 'constraint').map((r) => r.name),
    };
  }

  /** Expand: additive DDL only, and the program recorded so later phases (and restarts) use it. */
  async expand(plan: MigrationPlan, program: MigrationProgram): Promise<PhaseReport> {
    await this.ensureStateSchema();
    const previous = await this.pool.query<{ version_schema: string }>(
      `SELECT version_schema FROM ${STATE_SCHEMA}.migrations WHERE schema = $1 AND phase = 'completed'
        ORDER BY updated_at DESC LIMIT 1`,
      [plan.schema],
    );
    await this.pool.query(
      `INSERT INTO ${STATE_SCHEMA}.migrations (name, schema, version_schema, previous_version_schema, phase, plan, program)
       VALUES ($1, $2, $3, $4, 'expanding', $5, $6)
       ON CONFLICT (name, schema) DO UPDATE SET phase = 'expanding', updated_at = now(),
         plan = EXCLUDED.plan, program = EXCLUDED.program,
         steps_done = CASE WHEN ${STATE_SCHEMA}.migrations.phase = 'rolled-back' THEN '{}'::jsonb ELSE ${STATE_SCHEMA}.migrations.steps_done END
       WHERE ${STATE_SCHEMA}.migrations.phase IN ('expanding', 'rolled-back')`,
      [
        plan.name,
        plan.schema,
        program.versionSchema,
        previous.rows[0]?.version_schema ?? null,
        plan,
        program,
      ],
    );
    const report = await this.runSteps(program, 'expand', program.expand);
    await this.setPhase(program, 'expanded');
    return report;
  }

  /** The program recorded at expand (compiling again would see expand's own columns). */
  async program(schema: string, name: string): Promise<MigrationProgram> {
    const row = await this.pool.query<{ program: MigrationProgram }>(
      `SELECT program FROM ${STATE_SCHEMA}.migrations WHERE schema = $1 AND name = $2`,
      [schema, name],
    );
    if (!row.rows[0])
      throw new Error(`migration ${name} has not been expanded on schema ${schema}`);
    return row.rows[0].program;
  }

  /** Migrate: dual-write triggers, resumable backfill, validation, then the new version's views. */
  async migrate(program: MigrationProgram, options: MigrateOptions): Promise<PhaseReport> {
    const triggers = await this.runSteps(program, 'triggers', program.triggers);
    await this.setPhase(program, 'migrating');
    for (const spec of program.backfills) {
      const finished = await this.backfill(program, spec, options);
      if (!finished)
        throw new Error('backfill stopped before the end; start migrate again to resume');
    }
    const validate = await this.runSteps(program, 'validate', program.validate);
    const views = await this.runSteps(program, 'views', program.views);
    await this.setPhase(program, 'migrated');
    return merge(triggers, validate, views);
  }

  /** Contract: the previous version's views go, then the old columns, triggers and helpers. */
  async contract(program: MigrationProgram): Promise<PhaseReport> {
    const row = await this.pool.query<{ previous_version_schema: string | null }>(
      `SELECT previous_version_schema FROM ${STATE_SCHEMA}.migrations WHERE schema = $1 AND name = $2`,
      [program.schema, program.name],
    );
    const previous = row.rows[0]?.previous_version_schema;
    const steps: Step[] = [];
    if (previous && previous !== program.versionSchema)
      steps.push({
        description: `drop version schema ${previous}`,
        mode: 'transaction',
        sql: [`DROP SCHEMA IF EXISTS ${quote(previous)} CASCADE`],
      });
    const report = await this.runSteps(program, 'contract', [...steps, ...program.contract]);
    await this.pool.query(`DELETE FROM ${STATE_SCHEMA}.backfills WHERE name = $1 AND schema = $2`, [
      program.name,
      program.schema,
    ]);
    await this.setPhase(program, 'completed');
    return report;
  }

  /** Before contract only: removes what expand added, the triggers and the version schema. */
  async rollback(program: MigrationProgram): Promise<PhaseReport> {
    const report = await this.runSteps(program, 'rollback', program.rollback);
    await this.pool.query(`DELETE FROM ${STATE_SCHEMA}.backfills WHERE name = $1 AND schema = $2`, [
      program.name,
      program.schema,
    ]);
    await this.setPhase(program, 'rolled-back');
    await this.pool.query(
      `UPDATE ${STATE_SCHEMA}.migrations SET steps_done = '{}'::jsonb WHERE schema = $1 AND name = $2`,
      [program.schema, program.name],
    );
    return report;
  }

  /**
   * Sessions on the target tagged `application_name = <service>@<version>` (besides this
   * executor): what the database itself sees running, to cross-check the fleet view before contract.
   */
  async taggedSessions(service: string): Promise<{ pid: number; version: string }[]> {
    const rows = await this.pool.query<{ pid: number; application_name: string }>(
      `SELECT pid, application_name FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE $1`,
      [`${service.replace(/[%_\\]/g, '\\$&')}@%`],
    );
    return rows.rows.map((r) => ({
      pid: r.pid,
      version: r.application_name.slice(service.length + 1),
    }));
  }

  async backfillState(program: MigrationProgram): Promise<BackfillProgress[]> {
    if (!(await this.stateSchemaExists())) return [];
    const rows = await this.pool.query<{
      table_name: string;
      rows_done: string;
      rows_total: string;
    }>(
      `SELECT table_name, rows_done, rows_total FROM ${STATE_SCHEMA}.backfills WHERE name = $1 AND schema = $2`,
      [program.name, program.schema],
    );
    return rows.rows.map((r) => ({
      table: r.table_name,
      rowsDone: Number(r.rows_done),
      rowsTotal: Number(r.rows_total),
    }));
  }

  /**
   * Touches every row that existed when the backfill began, in primary-key order, so the up
   * trigger fills the new columns. Rows written later already went through the trigger, so the
   * upper bound is fixed at the start: a busy table cannot keep the backfill running forever.
   * Returns false if stopped by the signal.
   */
  async backfill(
    program: MigrationProgram,
    spec: BackfillSpec,
    options: MigrateOptions,
  ): Promise<boolean> {
    const table = `${quote(program.schema)}.${quote(spec.table)}`;
    const key = quote(spec.key);
    await this.pool.query(
      `INSERT INTO ${STATE_SCHEMA}.backfills (name, schema, table_name, last_key, max_key, rows_done, rows_total)
       SELECT $1, $2, $3, NULL, (SELECT max(${key})::text FROM ${table}), 0, (SELECT count(*) FROM ${table})
       ON CONFLICT (name, schema, table_name) DO NOTHING`,
      [program.name, program.schema, spec.table],
    );
    const client = await this.pool.connect();
    try {
      for (;;) {
        if (options.signal?.aborted) return false;
        const batchStarted = Date.now();
        const { value: batch } = await withLockRetry(
          client,
          this.lock,
          `backfill ${spec.table}`,
          async () => {
            await client.query('BEGIN');
            try {
              await client.query(`SET LOCAL rollgate.backfill = 'on'`);
              // Batch and cursor commit together, so an async commit lost in a crash loses both and
              // the batch is simply redone; the app's commits stop queueing behind our fsyncs.
              await client.query(`SET LOCAL synchronous_commit = off`);
              const cursor = await client.query<{
                last_key: string | null;
                max_key: string | null;
                done: boolean;
                rows_done: string;
                rows_total: string;
              }>(
                `SELECT last_key, max_key, done, rows_done, rows_total FROM ${STATE_SCHEMA}.backfills
                WHERE name = $1 AND schema = $2 AND table_name = $3 FOR UPDATE`,
                [program.name, program.schema, spec.table],
              );
              const state = cursor.rows[0]!;
              if (state.done || state.max_key === null) {
                await client.query(
                  `UPDATE ${STATE_SCHEMA}.backfills SET done = true WHERE name = $1 AND schema = $2 AND table_name = $3`,
                  [program.name, program.schema, spec.table],
                );
                await client.query('COMMIT');
                return {
                  touched: 0,
                  rowsDone: Number(state.rows_done),
                  rowsTotal: Number(state.rows_total),
                };
              }
              const after =
                state.last_key === null ? '$1::text IS NULL' : `${key} > $1::${spec.keyType}`;
              const touched = await client.query<{ n: number; last: string | null }>(
                `WITH batch AS (
                 SELECT ${key} FROM ${table} WHERE ${after} AND ${key} <= $2::${spec.keyType}
                  ORDER BY ${key} LIMIT $3 FOR NO KEY UPDATE),
               touched AS (
                 UPDATE ${table} t SET ${key} = t.${key} FROM batch WHERE t.${key} = batch.${key} RETURNING t.${key})
               SELECT count(*)::int AS n, max(${key})::text AS last FROM touched`,
                [state.last_key, state.max_key, options.batchSize],
              );
              const n = touched.rows[0]!.n;
              const rowsDone = Number(state.rows_done) + n;
              await client.query(
                `UPDATE ${STATE_SCHEMA}.backfills SET last_key = coalesce($4, last_key), rows_done = $5, done = $6, updated_at = now()
                WHERE name = $1 AND schema = $2 AND table_name = $3`,
                [
                  program.name,
                  program.schema,
                  spec.table,
                  touched.rows[0]!.last,
                  rowsDone,
                  n === 0,
                ],
              );
              await client.query('COMMIT');
              return { touched: n, rowsDone, rowsTotal: Number(state.rows_total) };
            } catch (error) {
              await client.query('ROLLBACK').catch(() => undefined);
              throw error;
            }
          },
          this.options.onLockRetry,
        );
        const batchMs = Date.now() - batchStarted;
        await options.onProgress?.({
          table: spec.table,
          rowsDone: batch.rowsDone,
          rowsTotal: batch.rowsTotal,
        });
        if (batch.touched === 0) return true;
        const duty = options.dutyCycle ?? 1;
        const adaptive = duty < 1 ? (batchMs * (1 - duty)) / duty : 0;
        const wait = Math.max(options.pauseMs, adaptive);
        if (wait > 0) await sleep(wait);
      }
    } finally {
      client.release();
    }
  }

  /**
   * Runs the steps of one part of a phase, recording each one done: a phase that failed halfway
   * (a lock fight lost for good, a crash) skips what already ran when it is started again.
   */
  private async runSteps(
    program: MigrationProgram,
    part: string,
    steps: Step[],
  ): Promise<PhaseReport> {
    const reports: StepReport[] = [];
    let statements = 0;
    const client = await this.pool.connect();
    try {
      const done = await client.query<{ n: number | null }>(
        `SELECT (steps_done ->> $3)::int AS n FROM ${STATE_SCHEMA}.migrations WHERE schema = $1 AND name = $2`,
        [program.schema, program.name, part],
      );
      const skip = done.rows[0]?.n ?? 0;
      for (const [index, step] of steps.entries()) {
        if (index < skip) continue;
        // Recorded in the step's own transaction: a crash can never leave a step done but not
        // recorded, which a re-run (contract after a crash) would then fail on.
        const record = () =>
          client.query(
            `UPDATE ${STATE_SCHEMA}.migrations SET steps_done = steps_done || jsonb_build_object($3::text, $4::int) WHERE schema = $1 AND name = $2`,
            [program.schema, program.name, part, index + 1],
          );
        const { report } = await withLockRetry(
          client,
          this.lock,
          step.description,
          () => this.runStep(client, step, record),
          this.options.onLockRetry,
        );
        reports.push(report);
        statements += step.sql.length;
      }
    } catch (error) {
      if (error instanceof LockTimeoutExhaustedError)
        (error as LockTimeoutExhaustedError & { steps?: StepReport[] }).steps = [
          ...reports,
          error.report,
        ];
      throw error;
    } finally {
      client.release();
    }
    return {
      steps: reports,
      statements,
      lockRetries: reports.reduce((sum, r) => sum + r.lockTimeouts, 0),
    };
  }

  private async runStep(
    client: PoolClient,
    step: Step,
    record: () => Promise<unknown>,
  ): Promise<void> {
    if (step.mode === 'concurrently') {
      // A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind: drop it and build again.
      if (step.index) await this.dropInvalidIndex(client, step.index);
      await runDdl(client, step.sql[0]!);
      if (step.index && (await this.dropInvalidIndex(client, step.index)))
        throw Object.assign(new Error(`index ${step.index} was left invalid`), { code: '55P03' });
      // CONCURRENTLY cannot run in a transaction: recorded right after.
      await record();
      return;
    }
    // security_invoker (row-level security of the base table applies through the view) is PG15+.
    const legacy = (await this.serverVersion(client)) < 150_000;
    await client.query('BEGIN');
    try {
      for (const sql of step.sql)
        await runDdl(client, legacy ? sql.replace(' WITH (security_invoker = true)', '') : sql);
      await record();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  private versionNumber: number | undefined;

  private async serverVersion(client: PoolClient): Promise<number> {
    if (this.versionNumber === undefined) {
      const row = await client.query<{ v: string }>(
        `SELECT current_setting('server_version_num') AS v`,
      );
      this.versionNumber = Number(row.rows[0]!.v);
    }
    return this.versionNumber;
  }

  private async dropInvalidIndex(client: PoolClient, index: string): Promise<boolean> {
    const invalid = await client.query(
      `SELECT n.nspname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relname = $1 AND NOT i.indisvalid`,
      [index],
    );
    if (invalid.rowCount === 0) return false;
    await runDdl(
      client,
      `DROP INDEX CONCURRENTLY IF EXISTS ${quote(invalid.rows[0].nspname)}.${quote(index)}`,
    );
    return true;
  }

  private async setPhase(program: MigrationProgram, phase: string): Promise<void> {
    await this.pool.query(
      `UPDATE ${STATE_SCHEMA}.migrations SET phase = $3, updated_at = now() WHERE schema = $1 AND name = $2`,
      [program.schema, program.name, phase],
    );
  }

  private async activeMigration(schema: string): Promise<string | undefined> {
    if (!(await this.stateSchemaExists())) return undefined;
    const row = await this.pool.query<{ name: string }>(
      `SELECT name FROM ${STATE_SCHEMA}.migrations WHERE schema = $1 AND phase NOT IN ('completed', 'rolled-back') LIMIT 1`,
      [schema],
    );
    return row.rows[0]?.name;
  }

  private async stateSchemaExists(): Promise<boolean> {
    const row = await this.pool.query(
      `SELECT 1 FROM pg_namespace WHERE nspname = ${literal(STATE_SCHEMA)}`,
    );
    return (row.rowCount ?? 0) > 0;
  }

  private async ensureStateSchema(): Promise<void> {
    for (const sql of [
      `CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA}`,
      `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.migrations (
        name text NOT NULL, schema text NOT NULL, version_schema text NOT NULL,
        previous_version_schema text, phase text NOT NULL, plan jsonb NOT NULL, program jsonb NOT NULL,
        steps_done jsonb NOT NULL DEFAULT '{}'::jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (name, schema))`,
      `CREATE UNIQUE INDEX IF NOT EXISTS one_active_per_schema ON ${STATE_SCHEMA}.migrations (schema)
        WHERE phase NOT IN ('completed', 'rolled-back')`,
      `CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.backfills (
        name text NOT NULL, schema text NOT NULL, table_name text NOT NULL,
        last_key text, max_key text, rows_done bigint NOT NULL, rows_total bigint NOT NULL,
        done boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (name, schema, table_name))`,
    ])
      await runDdl(this.pool, sql);
  }
}

/**
 * The one way DDL reaches a target: exactly one statement (checked here), sent with the extended
 * protocol so the server refuses a second statement too.
 */
async function runDdl(client: Pool | PoolClient, sql: string): Promise<void> {
  const problem = statementProblem(sql);
  if (problem) throw new Error(`refusing to run DDL: ${problem}`);
  const query: QueryConfig & { queryMode: 'extended' } = { text: sql, queryMode: 'extended' };
  await client.query(query);
}

function merge(...reports: PhaseReport[]): PhaseReport {
  return {
    steps: reports.flatMap((r) => r.steps),
    statements: reports.reduce((sum, r) => sum + r.statements, 0),
    lockRetries: reports.reduce((sum, r) => sum + r.lockRetries, 0),
  };
}
