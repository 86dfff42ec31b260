import { Client, Pool } from 'pg';
import { parsePlan, type MigrationPlan } from '@rollgate/migrations-domain';
import { PgMigrationExecutor } from './pg-executor';
import { createTestDatabase } from '@rollgate/platform/testing';

function plan(raw: object): MigrationPlan {
  const result = parsePlan({
    service: 'accounts',
    versions: { old: ['1.0.0'], new: ['2.0.0'] },
    backfill: { batchSize: 100, pauseMs: 0 },
    ...raw,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

/**
 * The dual-write trigger may only derive a column from the columns a write changed: a write by
 * one version must never overwrite what the other version wrote in a column it does not see.
 */
describe('dual-write trigger keeps the other version’s data', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pool: Pool;
  let executor: PgMigrationExecutor;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
    executor = new PgMigrationExecutor(db.url);
  });

  afterAll(async () => {
    await executor.close();
    await pool.end();
    await db.drop();
  });

  async function migrated(p: MigrationPlan): Promise<void> {
    const program = await executor.compile(p);
    await executor.expand(p, program);
    await executor.migrate(program, p.backfill);
  }

  /** A session of the new version: its version schema first in the search_path (schema = plan name). */
  async function newVersion(name: string): Promise<Client> {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query(`SET search_path = ${name}_${name}, ${name}`);
    return client;
  }

  it('dropColumn: an UPDATE by the new version keeps the dropped column the old version reads', async () => {
    await pool.query(`
      CREATE SCHEMA drop_legacy;
      CREATE TABLE drop_legacy.accounts (id bigserial PRIMARY KEY, email text NOT NULL, legacy text NOT NULL);
      INSERT INTO drop_legacy.accounts (email, legacy) VALUES ('a@x', 'keep-me');`);
    await migrated(
      plan({
        name: 'drop_legacy',
        schema: 'drop_legacy',
        operations: [{ op: 'dropColumn', table: 'accounts', column: 'legacy', down: "'unknown'" }],
      }),
    );
    const client = await newVersion('drop_legacy');
    await client.query(`UPDATE accounts SET email = 'new@x' WHERE email = 'a@x'`);
    await client.query(`INSERT INTO accounts (email) VALUES ('b@x')`);
    await client.end();
    const rows = await pool.query(`SELECT email, legacy FROM drop_legacy.accounts ORDER BY id`);
    expect(rows.rows).toEqual([
      { email: 'new@x', legacy: 'keep-me' },
      { email: 'b@x', legacy: 'unknown' },
    ]);
  });

  it('changeType: each version derives the other column only from what it changed', async () => {
    await pool.query(`
      CREATE SCHEMA retype_amount;
      CREATE TABLE retype_amount.wallets (id bigserial PRIMARY KEY, owner text NOT NULL, amount text NOT NULL);
      INSERT INTO retype_amount.wallets (owner, amount) VALUES ('a', '007');`);
    await migrated(
      plan({
        name: 'retype_amount',
        schema: 'retype_amount',
        operations: [
          {
            op: 'changeType',
            table: 'wallets',
            column: 'amount',
            type: 'integer',
            up: 'amount::integer',
            down: 'amount::text',
          },
        ],
      }),
    );
    const client = await newVersion('retype_amount');
    // Touches owner only: the old version's '007' must stay as written.
    await client.query(`UPDATE wallets SET owner = 'b'`);
    expect((await pool.query(`SELECT amount FROM retype_amount.wallets`)).rows[0].amount).toBe(
      '007',
    );
    // Changes amount: the old column is its derived counterpart and follows.
    await client.query(`UPDATE wallets SET amount = 8`);
    expect((await pool.query(`SELECT amount FROM retype_amount.wallets`)).rows[0].amount).toBe('8');
    await client.end();
  });

  it('addColumn with up: an UPDATE by the old version keeps what the new version wrote', async () => {
    await pool.query(`
      CREATE SCHEMA add_tier;
      CREATE TABLE add_tier.members (id bigserial PRIMARY KEY, email text NOT NULL);
      INSERT INTO add_tier.members (email) VALUES ('a@x');`);
    await migrated(
      plan({
        name: 'add_tier',
        schema: 'add_tier',
        operations: [
          {
            op: 'addColumn',
            table: 'members',
            column: { name: 'tier', type: 'text', nullable: false },
            up: "'free'",
          },
        ],
      }),
    );
    const client = await newVersion('add_tier');
    await client.query(`UPDATE members SET tier = 'pro'`);
    await client.end();
    await pool.query(`UPDATE add_tier.members SET email = 'b@x'`); // the old version
    await pool.query(`INSERT INTO add_tier.members (email) VALUES ('c@x')`);
    const rows = await pool.query(`SELECT email, tier FROM add_tier.members ORDER BY id`);
    expect(rows.rows).toEqual([
      { email: 'b@x', tier: 'pro' },
      { email: 'c@x', tier: 'free' },
    ]);
  });
  it('splitColumn: an UPDATE by the new version of another column keeps the old version’s value', async () => {
    await pool.query(`
      CREATE SCHEMA split_name;
      CREATE TABLE split_name.people (id bigserial PRIMARY KEY, name text NOT NULL, city text);
      INSERT INTO split_name.people (name) VALUES ('Ada  Lovelace');`);
    await migrated(
      plan({
        name: 'split_name',
        schema: 'split_name',
        operations: [
          {
            op: 'splitColumn',
            table: 'people',
            column: 'name',
            into: [
              { name: 'first', type: 'text', up: "split_part(name, ' ', 1)" },
              { name: 'last', type: 'text', up: "split_part(name, ' ', 2)" },
            ],
            down: "first || ' ' || last",
          },
        ],
      }),
    );
    const client = await newVersion('split_name');
    // Not a round trip: the old value has two spaces. A write of city must not rebuild it.
    await client.query(`UPDATE people SET city = 'London'`);
    expect((await pool.query(`SELECT name FROM split_name.people`)).rows[0].name).toBe(
      'Ada  Lovelace',
    );
    await client.query(`UPDATE people SET first = 'Grace'`);
    expect((await pool.query(`SELECT name FROM split_name.people`)).rows[0].name).toBe('Grace ');
    await client.end();
  });

  it('records each contract step in the step’s own transaction: a failure there undoes the step, and contract re-runs', async () => {
    await pool.query(`
      CREATE SCHEMA atomic_steps;
      CREATE TABLE atomic_steps.notes (id bigserial PRIMARY KEY, body text NOT NULL, legacy text);
      INSERT INTO atomic_steps.notes (body, legacy) VALUES ('n', 'old');`);
    const p = plan({
      name: 'atomic_steps',
      schema: 'atomic_steps',
      operations: [{ op: 'dropColumn', table: 'notes', column: 'legacy', down: 'NULL' }],
    });
    await migrated(p);
    const program = await executor.program('atomic_steps', 'atomic_steps');
    // The record of a contract step fails (as a crash right after the DDL would leave it).
    await pool.query(`
      CREATE FUNCTION atomic_steps.refuse() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN IF NEW.steps_done ? 'contract' THEN RAISE EXCEPTION 'crash drill'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse BEFORE UPDATE ON rollgate_migrations.migrations
        FOR EACH ROW WHEN (NEW.name = 'atomic_steps') EXECUTE FUNCTION atomic_steps.refuse();`);
    await expect(executor.contract(program)).rejects.toThrow(/crash drill/);
    const columns = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'atomic_steps' AND table_name = 'notes' ORDER BY column_name`,
    );
    expect(columns.rows.map((r: { column_name: string }) => r.column_name)).toContain('legacy');

    await pool.query('DROP TRIGGER refuse ON rollgate_migrations.migrations');
    await executor.contract(program);
    const after = await pool.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'atomic_steps' AND table_name = 'notes'`,
    );
    expect(after.rows.map((r: { column_name: string }) => r.column_name)).not.toContain('legacy');
  });
});
