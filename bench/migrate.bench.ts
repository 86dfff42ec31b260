/**
 * npm run bench:migrate — backfill rate of a column type change on a 1M-row table, and what it
 * costs the application: p99 latency of the app's queries during the backfill next to the same
 * queries with no migration running, measured in the same run.
 *
 * Setup: a fresh database (mig_bench_*) with `orders(id bigserial, customer text, amount text)`
 * and BENCH_ROWS rows (default 1,000,000). Each run plans `changeType amount text → bigint`
 * (up `amount::bigint`, down `amount::text`), expands (shadow column + dual-write trigger) and
 * migrates: the backfill touches every row in primary-key batches of BENCH_BATCH (default 2000)
 * with BENCH_PAUSE_MS (default 0) between batches and at most BENCH_DUTY (default 0.5) of the time
 * busy (the adaptive throttle: after a batch of d ms it waits d·(1-duty)/duty). Meanwhile BENCH_CLIENTS (default 2)
 * application loops each alternate a point SELECT and a point UPDATE (the UPDATE goes through the
 * trigger) on random rows, with no think time. Idle: the same loops for IDLE_S seconds before the
 * migration starts. After each run the migration is rolled back and the table vacuumed, so every
 * run starts from the same table. The table prints each run and the medians of BENCH_RUNS (5).
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { parsePlan } from '@rollgate/migrations-domain';
import { DEFAULT_DATABASE_URL } from '@rollgate/platform';
import { PgMigrationExecutor } from '../apps/migrations/src/executor/pg-executor';

const ROWS = Number(process.env['BENCH_ROWS'] ?? 1_000_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 2000);
const PAUSE_MS = Number(process.env['BENCH_PAUSE_MS'] ?? 0);
const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 2);
const DUTY = Number(process.env['BENCH_DUTY'] ?? 0.5);
const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 5);

const admin = process.env['ROLLGATE_DATABASE_URL'] ?? DEFAULT_DATABASE_URL;

async function sql(url: string, text: string): Promise<void> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  await client.query(text);
  await client.end();
}

/** Application loops: point reads and writes on random rows, each query timed. */
class Workload {
  private running = false;
  private loops: Promise<void>[] = [];
  private window: number[] | null = null;
  failures = 0;

  constructor(private readonly clients: Client[]) {}

  start(): void {
    this.running = true;
    this.loops = this.clients.map((client) => this.loop(client));
  }

  /** Latencies recorded while `during` runs. */
  async measure(during: () => Promise<void>): Promise<number[]> {
    const window: number[] = [];
    this.window = window;
    await during();
    this.window = null;
    return window;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(client: Client): Promise<void> {
    let n = 0;
    while (this.running) {
      const id = 1 + Math.floor(Math.random() * ROWS);
      const started = performance.now();
      try {
        if (n++ % 2 === 0)
          await client.query('SELECT id, customer, amount FROM orders WHERE id = $1', [id]);
        else
          await client.query('UPDATE orders SET amount = $1 WHERE id = $2', [
            String(n % 100_000),
            id,
          ]);
      } catch {
        this.failures++;
      }
      this.window?.push(performance.now() - started);
    }
  }
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

const median = (values: number[]) => percentile(values, 0.5);

interface RunResult {
  rowsPerSecond: number;
  backfillSeconds: number;
  idleP50: number;
  idleP99: number;
  duringP50: number;
  duringP99: number;
  idleQueries: number;
  duringQueries: number;
}

async function main(): Promise<void> {
  const name = `mig_bench_${randomUUID().replace(/-/g, '').slice(0, 8)}`;
  await sql(admin, `CREATE DATABASE ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const target = url.toString();
  const results: RunResult[] = [];
  try {
    const seedStarted = Date.now();
    await sql(
      target,
      `CREATE TABLE orders (id bigserial PRIMARY KEY, customer text NOT NULL, amount text NOT NULL);
       INSERT INTO orders (customer, amount) SELECT 'customer-' || (g % 5000), (g % 100000)::text FROM generate_series(1, ${ROWS}) g;`,
    );
    await sql(target, 'VACUUM ANALYZE orders');
    console.log(
      `seeded ${ROWS.toLocaleString('en-US')} rows in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`,
    );
    console.log(
      `batch ${BATCH}, pause ${PAUSE_MS} ms, duty cycle ${DUTY}, ${CLIENTS} app clients (point SELECT + point UPDATE), idle window ${IDLE_S} s, ${RUNS} runs\n`,
    );
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const c = new Client({ connectionString: target, application_name: 'bench-app' });
        c.on('error', () => undefined);
        await c.connect();
        return c;
      }),
    );
    const workload = new Workload(clients);
    workload.start();
    for (let run = 1; run <= RUNS; run++) {
      const executor = new PgMigrationExecutor(target);
      const parsed = parsePlan({
        name: `retype_${run}`,
        service: 'bench',
        versions: { old: ['1'], new: ['2'] },
        backfill: { batchSize: BATCH, pauseMs: PAUSE_MS, dutyCycle: DUTY },
        operations: [
          {
            op: 'changeType',
            table: 'orders',
            column: 'amount',
            type: 'bigint',
            up: 'amount::bigint',
            down: 'amount::text',
          },
        ],
      });
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
      const idle = await workload.measure(() => new Promise((r) => setTimeout(r, IDLE_S * 1000)));
      const program = await executor.compile(parsed.plan);
      await executor.expand(parsed.plan, program);
      let seconds = 0;
      const during = await workload.measure(async () => {
        const started = performance.now();
        await executor.migrate(program, parsed.plan.backfill);
        seconds = (performance.now() - started) / 1000;
      });
      await executor.rollback(program);
      await executor.close();
      const result: RunResult = {
        rowsPerSecond: ROWS / seconds,
        backfillSeconds: seconds,
        idleP50: median(idle),
        idleP99: percentile(idle, 0.99),
        duringP50: median(during),
        duringP99: percentile(during, 0.99),
        idleQueries: idle.length,
        duringQueries: during.length,
      };
      results.push(result);
      console.log(
        `run ${run}: ${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s (${seconds.toFixed(1)} s); ` +
          `app p99 idle ${result.idleP99.toFixed(2)} ms, during backfill ${result.duringP99.toFixed(2)} ms`,
      );
      // Same starting table for the next run: the backfill's dead tuples go.
      await sql(target, 'VACUUM orders');
    }
    await workload.stop();
    await Promise.all(clients.map((c) => c.end()));

    const m = (pick: (r: RunResult) => number) => median(results.map(pick));
    console.log(`\nmedians of ${RUNS} runs, ${ROWS.toLocaleString('en-US')} rows`);
    console.table([
      {
        measure: 'backfill rate (rows/s)',
        value: Math.round(m((r) => r.rowsPerSecond)),
      },
      { measure: 'backfill duration (s)', value: Number(m((r) => r.backfillSeconds).toFixed(1)) },
      { measure: 'app p50 idle (ms)', value: Number(m((r) => r.idleP50).toFixed(2)) },
      { measure: 'app p50 during backfill (ms)', value: Number(m((r) => r.duringP50).toFixed(2)) },
      { measure: 'app p99 idle (ms)', value: Number(m((r) => r.idleP99).toFixed(2)) },
      { measure: 'app p99 during backfill (ms)', value: Number(m((r) => r.duringP99).toFixed(2)) },
      { measure: 'app queries failed', value: workload.failures },
    ]);
    const ratio = m((r) => r.duringP99) / m((r) => r.idleP99);
    console.log(
      `  ${ratio <= 2 ? 'PASS' : 'MISS'} p99 during backfill is ${ratio.toFixed(2)}x idle (goal ≤ 2x)`,
    );
  } catch (error) {
    console.error(error);
    throw error;
  } finally {
    await sql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
