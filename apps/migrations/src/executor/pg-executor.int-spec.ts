import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { parsePlan, type MigrationPlan } from '@rollgate/migrations-domain';
import { LockTimeoutExhaustedError } from './lock-retry';
import { PgMigrationExecutor, PlanRejectedError } from './pg-executor';
import { createTestDatabase } from '@rollgate/platform/testing';

const root = join(__dirname, '../../../..');

function plan(raw: object): MigrationPlan {
  const result = parsePlan({
    service: 'accounts',
    versions: { old: ['1.0.0'], new: ['2.0.0'] },
    ...raw,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

async function seed(pool: Pool, rows: number): Promise<void> {
  await pool.query(`
    CREATE TABLE accounts (id bigserial PRIMARY KEY, email text NOT NULL, amount text NOT NULL, note text);
    INSERT INTO accounts (email, amount) SELECT 'seed-' || g, g::text FROM generate_series(1, ${rows}) g;`);
}

const renameAndRetype = (name: string, backfill = { batchSize: 500, pauseMs: 2 }) =>
  plan({
    name,
    backfill,
    operations: [
      { op: 'renameColumn', table: 'accounts', from: 'email', to: 'email_address' },
      {
        op: 'changeType',
        table: 'accounts',
        column: 'amount',
        type: 'integer',
        up: 'amount::integer',
        down: 'amount::text',
      },
    ],
  });

/** A client loop that must never see a failed query; rows it wrote are remembered to check later. */
class AppLoop {
  readonly errors: string[] = [];
  readonly written = new Map<number, { email: string; amount: number }>();
  /** Rows written and never touched again: the other version may read them and check them. */
  readonly settled: number[] = [];
  queries = 0;
  private running = true;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Client,
    private readonly version: 'old' | 'new',
    private readonly peer: () => AppLoop | undefined,
  ) {}

  start(): this {
    this.done = this.loop();
    return this;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.client.end();
  }

  private async loop(): Promise<void> {
    const emailColumn = this.version === 'old' ? 'email' : 'email_address';
    let n = 0;
    while (this.running) {
      n++;
      try {
        const amount = n * 7;
        const email = `${this.version}-${n}`;
        // Old version writes amount as text, new version as integer.
        const inserted = await this.client.query<{ id: string }>(
          `INSERT INTO accounts (${emailColumn}, amount) VALUES ($1, $2) RETURNING id`,
          [email, this.version === 'old' ? String(amount) : amount],
        );
        const id = Number(inserted.rows[0]!.id);
        await this.client.query(`UPDATE accounts SET amount = $1 WHERE id = $2`, [
          this.version === 'old' ? String(amount + 1) : amount + 1,
          id,
        ]);
        this.written.set(id, { email, amount: amount + 1 });
        this.settled.push(id);
        const seedId = 1 + (n % 1000);
        const seedRow = await this.client.query(
          `SELECT ${emailColumn} AS email, amount FROM accounts WHERE id = $1`,
          [seedId],
        );
        if (
          String(seedRow.rows[0]?.amount) !== String(seedId) ||
          seedRow.rows[0]?.email !== `seed-${seedId}`
        )
          this.errors.push(`seed row ${seedId} reads ${JSON.stringify(seedRow.rows[0])}`);
        const peer = this.peer();
        const peerId = peer?.settled[n % Math.max(1, peer.settled.length)];
        if (peer && peerId !== undefined) {
          const expected = peer.written.get(peerId)!;
          const row = await this.client.query(
            `SELECT ${emailColumn} AS email, amount FROM accounts WHERE id = $1`,
            [peerId],
          );
          const amountOk =
            this.version === 'old'
              ? row.rows[0]?.amount === String(expected.amount)
              : row.rows[0]?.amount === expected.amount;
          if (!amountOk || row.rows[0]?.email !== expected.email)
            this.errors.push(
              `${this.version} reads peer row ${peerId} as ${JSON.stringify(row.rows[0])}, wrote ${JSON.stringify(expected)}`,
            );
        }
        this.queries += 4;
      } catch (error) {
        this.errors.push(`${this.version}: ${(error as Error).message}`);
        // A broken test must end, not spin on a dead connection.
        if (this.errors.length > 20) this.running = false;
      }
    }
  }
}

async function appClient(url: string, searchPath: string): Promise<Client> {
  const client = new Client({ connectionString: url, application_name: `app-${searchPath}` });
  await client.connect();
  await client.query(`SET search_path TO ${searchPath}`);
  return client;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('PostgreSQL executor', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pool: Pool;

  beforeEach(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 3 });
  });

  afterEach(async () => {
    await pool.end();
    await db.drop();
  });

  it('renames a column and changes a type through expand, migrate and contract while old and new versions read and write', async () => {
    await seed(pool, 5000);
    const executor = new PgMigrationExecutor(db.url);
    const p = renameAndRetype('rename_retype');
    const peers: { newLoop?: AppLoop } = {};
    const oldLoop = new AppLoop(
      await appClient(db.url, 'public'),
      'old',
      () => peers.newLoop,
    ).start();
    await wait(150);

    const program = await executor.compile(p);
    await executor.expand(p, program);
    await wait(100);
    const progress: number[] = [];
    await executor.migrate(program, {
      ...p.backfill,
      onProgress: (pr) => void progress.push(pr.rowsDone),
    });
    expect(progress[progress.length - 1]).toBeGreaterThanOrEqual(5000);
    expect(progress.length).toBeGreaterThan(5);

    // The new version selects its schema with search_path; both run side by side.
    const newLoop = (peers.newLoop = new AppLoop(
      await appClient(db.url, program.versionSchema),
      'new',
      () => oldLoop,
    ).start());
    await wait(800);
    // The old version is gone (the service gates this on the fleet); contract runs under the new one.
    await oldLoop.stop();
    await executor.contract(program);
    await wait(300);
    await newLoop.stop();

    expect(oldLoop.errors).toEqual([]);
    expect(newLoop.errors).toEqual([]);
    expect(oldLoop.written.size).toBeGreaterThan(10);
    expect(newLoop.written.size).toBeGreaterThan(10);

    const columns = await pool.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'accounts' ORDER BY ordinal_position`,
    );
    expect(columns.rows.map((c) => `${c.column_name}:${c.data_type}`).sort()).toEqual(
      ['amount:integer', 'email_address:text', 'id:bigint', 'note:text'].sort(),
    );
    const rows = await pool.query<{ id: string; email_address: string; amount: number }>(
      'SELECT id, email_address, amount FROM accounts',
    );
    expect(rows.rowCount).toBe(5000 + oldLoop.written.size + newLoop.written.size);
    const byId = new Map(rows.rows.map((r) => [Number(r.id), r]));
    for (const loop of [oldLoop, newLoop])
      for (const [id, expected] of loop.written)
        expect(byId.get(id)).toEqual({
          id: String(id),
          email_address: expected.email,
          amount: expected.amount,
        });
    const badSeeds = await pool.query(
      `SELECT count(*)::int AS n FROM accounts WHERE email_address LIKE 'seed-%' AND amount::text <> substr(email_address, 6)`,
    );
    expect(badSeeds.rows[0].n).toBe(0);
    const leftovers = await pool.query(
      `SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE '_rg_%'`,
    );
    expect(leftovers.rows[0].n).toBe(0);
    await executor.close();
  });

  it('resumes a backfill whose process was killed midway from its committed cursor', async () => {
    await seed(pool, 20_000);
    const executor = new PgMigrationExecutor(db.url);
    const p = renameAndRetype('resume', { batchSize: 200, pauseMs: 15 });
    const program = await executor.compile(p);
    await executor.expand(p, program);

    const child = spawn(
      process.execPath,
      [
        join(root, 'bin/run.js'),
        join(__dirname, 'testing/run-migrate.ts'),
        db.url,
        'public',
        'resume',
        '200',
        '15',
      ],
      {
        cwd: root,
        stdio: 'ignore',
      },
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let doneAtKill = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await wait(50)) {
      const state = await executor.backfillState(program);
      doneAtKill = state[0]?.rowsDone ?? 0;
      if (doneAtKill >= 2000) break;
    }
    child.kill('SIGKILL');
    await exited;
    const atKill = (await executor.backfillState(program))[0]!;
    expect(atKill.rowsDone).toBeGreaterThanOrEqual(2000);
    expect(atKill.rowsDone).toBeLessThan(20_000);

    const progress: number[] = [];
    await executor.migrate(program, {
      batchSize: 2000,
      pauseMs: 0,
      onProgress: (pr) => void progress.push(pr.rowsDone),
    });
    // Resumed from the cursor: the first batch adds to what the killed process committed.
    expect(progress[0]).toBe(atKill.rowsDone + 2000);
    expect(progress[progress.length - 1]).toBe(20_000);
    const unfilled = await pool.query(
      `SELECT count(*)::int AS n FROM accounts WHERE "_rg_amount" IS DISTINCT FROM amount::integer`,
    );
    expect(unfilled.rows[0].n).toBe(0);
    await executor.close();
  });

  it('times out, backs off and reports instead of queueing the app behind a long transaction', async () => {
    await seed(pool, 100);
    const retries: number[] = [];
    const executor = new PgMigrationExecutor(db.url, {
      lock: { lockTimeoutMs: 100, maxAttempts: 4, backoffBaseMs: 50, backoffMaxMs: 200 },
      onLockRetry: (r) => retries.push(r.attempts),
    });
    const p = plan({
      name: 'locked',
      operations: [{ op: 'addColumn', table: 'accounts', column: { name: 'tier', type: 'text' } }],
    });
    const program = await executor.compile(p);

    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM accounts'); // ACCESS SHARE until the transaction ends

    const app = new Client({ connectionString: db.url });
    await app.connect();
    let appRunning = true;
    const latencies: number[] = [];
    const appErrors: string[] = [];
    const appLoop = (async () => {
      while (appRunning) {
        const started = Date.now();
        try {
          await app.query('SELECT amount FROM accounts WHERE id = 1');
        } catch (error) {
          appErrors.push((error as Error).message);
        }
        latencies.push(Date.now() - started);
        await wait(5);
      }
    })();

    const failure = await executor.expand(p, program).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LockTimeoutExhaustedError);
    const report = (failure as LockTimeoutExhaustedError).report;
    expect(report).toMatchObject({ attempts: 4, lockTimeouts: 4, ok: false });
    expect(report.waitedMs).toBeGreaterThan(0);
    expect(retries).toEqual([1, 2, 3]);
    expect((failure as Error).message).toMatch(/could not get its lock in 4 attempts/);

    // The holder lets go during the retries: expand gets through and says how often it had to retry.
    const retriedBefore = retries.length;
    const second = executor.expand(p, program);
    while (retries.length === retriedBefore) await wait(20);
    await holder.query('COMMIT');
    const done = await second;
    expect(done.lockRetries).toBeGreaterThanOrEqual(1);

    appRunning = false;
    await appLoop;
    expect(appErrors).toEqual([]);
    // A query queued behind a waiting ALTER waits at most one lock_timeout, never the whole transaction.
    expect(Math.max(...latencies)).toBeLessThan(600);
    const column = await pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'tier'`,
    );
    expect(column.rowCount).toBe(1);
    await Promise.all([holder.end(), app.end(), executor.close()]);
  });

  it('refuses invalid plans with the field named before touching the database, and rolls back before contract', async () => {
    await seed(pool, 50);
    const executor = new PgMigrationExecutor(db.url);
    const bad = plan({
      name: 'bad',
      reads: { '2.0.0': ['accounts.note'] },
      operations: [
        { op: 'renameColumn', table: 'acounts', from: 'email', to: 'mail' },
        { op: 'dropColumn', table: 'accounts', column: 'note' },
        { op: 'addCheck', table: 'accounts', name: 'amount_positive', expression: 'amount > 0' },
        { op: 'createIndex', table: 'accounts', name: 'accounts_ghost_idx', columns: ['ghost'] },
      ],
    });
    const refused = await executor.compile(bad).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PlanRejectedError);
    expect((refused as PlanRejectedError).problems.map((p) => p.field)).toEqual([
      'operations[0].table',
      'operations[1].column',
      'operations[3].columns[0]',
    ]);
    const untouched = await pool.query(
      `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'rollgate_migrations'`,
    );
    expect(untouched.rows[0].n).toBe(0);

    const p = renameAndRetype('undo');
    const program = await executor.compile(p);
    await executor.expand(p, program);
    await executor.migrate(program, p.backfill);
    await executor.rollback(program);
    const columns = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'accounts' ORDER BY ordinal_position`,
    );
    expect(columns.rows.map((c) => c.column_name)).toEqual(['id', 'email', 'amount', 'note']);
    const leftovers = await pool.query(
      `SELECT (SELECT count(*) FROM pg_namespace WHERE nspname = $1)::int + (SELECT count(*) FROM pg_trigger WHERE tgname LIKE '_rg_%')::int AS n`,
      [program.versionSchema],
    );
    expect(leftovers.rows[0].n).toBe(0);
    await executor.close();
  });

  it('runs only single statements: a tampered program with a stacked statement never reaches the database', async () => {
    await seed(pool, 10);
    await pool.query('CREATE TABLE victim (id int)');
    const executor = new PgMigrationExecutor(db.url);
    const p = plan({
      name: 'tampered',
      operations: [{ op: 'addColumn', table: 'accounts', column: { name: 'tier', type: 'text' } }],
    });
    const program = await executor.compile(p);
    // As if a program recorded before SQL checks existed (or edited in the state table) came back.
    program.expand[0]!.sql = ['ALTER TABLE accounts ADD COLUMN tier text; DROP TABLE victim'];
    await expect(executor.expand(p, program)).rejects.toThrow(
      'refusing to run DDL: more than one statement (; at character 42)',
    );
    const victim = await pool.query(`SELECT to_regclass('public.victim') AS t`);
    expect(victim.rows[0].t).toBe('victim');
    await executor.close();
  });
});
