import { fold } from '@rollgate/event-sourcing';
import type { EventEnvelope, NewEvent } from '@rollgate/contracts';
import {
  compilePlan,
  contractGate,
  decidePhaseCompleted,
  decidePlan,
  decideStartPhase,
  lintPlan,
  lintSql,
  migrationAggregate,
  parsePlan,
  parsePlanText,
  splitStatements,
  type MigrationPlan,
  type SchemaSnapshot,
} from './index';

const snapshot: SchemaSnapshot = {
  schema: 'public',
  tables: [
    {
      name: 'users',
      primaryKey: ['id'],
      columns: [
        {
          name: 'id',
          type: 'bigint',
          nullable: false,
          default: "nextval('users_id_seq'::regclass)",
        },
        { name: 'email', type: 'text', nullable: false, default: null },
        { name: 'amount', type: 'text', nullable: true, default: null },
        { name: 'full_name', type: 'text', nullable: true, default: null },
      ],
    },
  ],
  indexes: ['users_pkey'],
  constraints: ['users_pkey'],
};

const base = {
  name: 'm1',
  service: 'accounts',
  versions: { old: ['1.0.0'], new: ['2.0.0'] },
};

function plan(operations: unknown[], extra: object = {}): MigrationPlan {
  const result = parsePlan({ ...base, ...extra, operations });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.plan;
}

function compile(operations: unknown[], extra: object = {}) {
  return compilePlan(plan(operations, extra), snapshot);
}

function program(operations: unknown[], extra: object = {}) {
  const result = compile(operations, extra);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.program;
}

const allSql = (steps: { sql: string[] }[]) => steps.flatMap((s) => s.sql).join('\n');

describe('plan parsing', () => {
  it('reads YAML and JSON alike and fills defaults', () => {
    const yaml = parsePlanText(`
name: rename_email
service: accounts
versions: { old: ["1.0.0"], new: ["2.0.0"] }
operations:
  - op: renameColumn
    table: users
    from: email
    to: email_address
`);
    const json = parsePlanText(
      JSON.stringify({
        ...base,
        name: 'rename_email',
        operations: [{ op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' }],
      }),
    );
    expect(yaml).toEqual(json);
    expect(yaml.ok && yaml.plan).toMatchObject({
      schema: 'public',
      contract: 'on-command',
      backfill: { batchSize: 1000, pauseMs: 0 },
    });
  });

  it('names the field of every problem', () => {
    const result = parsePlan({
      name: 'Bad Name',
      service: 'accounts',
      versions: { old: [], new: ['2'] },
      backfill: { batchSize: 0, dutyCycle: 2 },
      operations: [
        { op: 'changeType', table: 'users', column: 'amount', type: 'integer' },
        { op: 'teleport' },
        { op: 'renameColumn', table: 'Users', from: 'a' },
      ],
    });
    expect(result.ok).toBe(false);
    const fields = !result.ok ? result.problems.map((p) => p.field) : [];
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'versions.old',
        'backfill.batchSize',
        'backfill.dutyCycle',
        'operations[0].up',
        'operations[0].down',
        'operations[1].op',
        'operations[2].table',
        'operations[2].to',
      ]),
    );
  });

  it('refuses a plan that expands and contracts in one step, and says why', () => {
    const oneStep = parsePlan({
      ...base,
      contract: 'with-expand',
      operations: [{ op: 'dropTable', table: 'users' }],
    });
    expect(oneStep.ok).toBe(false);
    expect(!oneStep.ok && oneStep.problems[0]).toMatchObject({
      field: 'contract',
      message: expect.stringMatching(/separate releases/),
    });
    const sameRelease = parsePlan({
      ...base,
      versions: { old: ['1.0.0'], new: ['1.0.0'] },
      operations: [{ op: 'dropTable', table: 'users' }],
    });
    expect(!sameRelease.ok && sameRelease.problems[0]).toMatchObject({
      field: 'versions',
      message: expect.stringMatching(/both old and new/),
    });
  });

  it('reports broken YAML as a file problem', () => {
    const result = parsePlanText('name: [unclosed');
    expect(!result.ok && result.problems[0]!.field).toBe('(file)');
  });

  it('refuses expressions that smuggle a second statement', () => {
    const result = parsePlan({
      ...base,
      operations: [
        {
          op: 'setNotNull',
          table: 'users',
          column: 'amount',
          up: "coalesce(amount, '0'); drop table users",
        },
      ],
    });
    expect(!result.ok && result.problems[0]!.field).toBe('operations[0].up');
  });

  it('takes backfill settings within their ranges and names each one out of range', () => {
    const ops = [{ op: 'dropColumn', table: 'users', column: 'amount', down: "'0'" }];
    expect(plan(ops, { backfill: { batchSize: 500, pauseMs: 0 } }).backfill).toMatchObject({
      batchSize: 500,
      pauseMs: 0,
    });
    const result = parsePlan({
      ...base,
      operations: ops,
      backfill: { batchSize: 0, pauseMs: 1.5 },
    });
    expect(!result.ok && result.problems).toEqual([
      { field: 'backfill.batchSize', message: 'must be an integer from 1 to 100000' },
      { field: 'backfill.pauseMs', message: 'must be an integer from 0 to 60000' },
    ]);
  });
});

describe('compiling a plan against the database', () => {
  it('refuses unknown tables and columns, naming the field', () => {
    const result = compile([
      { op: 'renameColumn', table: 'nope', from: 'a', to: 'b' },
      { op: 'dropColumn', table: 'users', column: 'ghost' },
    ]);
    expect(!result.ok && result.problems).toEqual([
      { field: 'operations[0].table', message: "unknown table 'nope' in schema public" },
      { field: 'operations[1].column', message: "unknown column 'users.ghost'" },
    ]);
  });

  it('refuses dropping a column a new version still reads', () => {
    const result = compile([{ op: 'dropColumn', table: 'users', column: 'full_name' }], {
      reads: { '2.0.0': ['users.full_name'] },
    });
    expect(!result.ok && result.problems[0]).toMatchObject({
      field: 'operations[0].column',
      message: expect.stringMatching(/still read by new version 2\.0\.0/),
    });
  });

  it('refuses a NOT NULL column without default or up, and a drop of a NOT NULL column without down', () => {
    const add = compile([
      { op: 'addColumn', table: 'users', column: { name: 'tier', type: 'text', nullable: false } },
    ]);
    expect(!add.ok && add.problems[0]!.field).toBe('operations[0].up');
    const drop = compile([{ op: 'dropColumn', table: 'users', column: 'email' }]);
    expect(!drop.ok && drop.problems[0]!.field).toBe('operations[0].down');
  });

  it('refuses two rewrites of one column in one migration', () => {
    const result = compile([
      { op: 'renameColumn', table: 'users', from: 'amount', to: 'total' },
      {
        op: 'changeType',
        table: 'users',
        column: 'total',
        type: 'integer',
        up: 'amount::integer',
        down: 'total::text',
      },
    ]);
    expect(!result.ok && result.problems[0]!.field).toBe('operations[1].column');
  });

  it('a rename costs nothing until contract: the new version sees the new name through its views', () => {
    const p = program([{ op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' }]);
    expect(p.expand).toEqual([]);
    expect(p.triggers).toEqual([]);
    expect(allSql(p.views)).toContain(
      'CREATE VIEW "public_m1"."users" WITH (security_invoker = true) AS SELECT "id" AS "id", "email" AS "email_address"',
    );
    expect(allSql(p.views)).toContain(
      `ALTER VIEW "public_m1"."users" ALTER COLUMN "id" SET DEFAULT (nextval('users_id_seq'::regclass))`,
    );
    expect(allSql(p.contract)).toBe(
      'ALTER TABLE "public"."users" RENAME COLUMN "email" TO "email_address"',
    );
  });

  it('a type change adds a shadow column, dual-writes both ways, backfills, and swaps at contract', () => {
    const p = program([
      {
        op: 'changeType',
        table: 'users',
        column: 'amount',
        type: 'integer',
        up: 'amount::integer',
        down: 'amount::text',
      },
    ]);
    expect(allSql(p.expand)).toBe('ALTER TABLE "public"."users" ADD COLUMN "_rg_amount" integer');
    const trigger = allSql(p.triggers);
    expect(trigger).toContain('NEW."_rg_amount" := ("o_amount"::integer);');
    expect(trigger).toContain('NEW."amount" := ("n_amount"::text);');
    expect(trigger).toContain(
      `btrim(split_part(current_setting('search_path'), ',', 1), ' "') = 'public_m1'`,
    );
    expect(p.backfills).toEqual([{ table: 'users', key: 'id', keyType: 'bigint' }]);
    expect(allSql(p.contract)).toMatch(
      /DROP TRIGGER[\s\S]*DROP COLUMN "amount"[\s\S]*RENAME COLUMN "_rg_amount" TO "amount"/,
    );
    expect(allSql(p.rollback)).toContain('DROP COLUMN IF EXISTS "_rg_amount"');
  });

  it('indexes are built concurrently, constraints NOT VALID then validated, unique via USING INDEX', () => {
    const p = program([
      { op: 'createIndex', table: 'users', name: 'users_email_idx', columns: ['email'] },
      { op: 'addCheck', table: 'users', name: 'users_email_check', expression: "email <> ''" },
      { op: 'addUnique', table: 'users', name: 'users_email_key', columns: ['email'] },
      {
        op: 'createTable',
        table: 'orders',
        columns: [
          { name: 'id', type: 'bigint', primaryKey: true },
          { name: 'user_id', type: 'bigint' },
        ],
      },
      {
        op: 'addForeignKey',
        table: 'orders',
        name: 'orders_user_fk',
        columns: ['user_id'],
        references: { table: 'users', columns: ['id'] },
      },
    ]);
    expect(p.expand.filter((s) => s.mode === 'concurrently').map((s) => s.sql[0])).toEqual([
      'CREATE INDEX CONCURRENTLY IF NOT EXISTS "users_email_idx" ON "public"."users" ("email")',
      'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "users_email_key" ON "public"."users" ("email")',
    ]);
    expect(allSql(p.expand)).toContain(`CHECK (email <> '') NOT VALID`);
    expect(allSql(p.expand)).toContain(
      'FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") NOT VALID',
    );
    expect(allSql(p.validate)).toContain('VALIDATE CONSTRAINT "users_email_check"');
    expect(allSql(p.validate)).toContain(
      'ADD CONSTRAINT "users_email_key" UNIQUE USING INDEX "users_email_key"',
    );
    expect(allSql(p.rollback)).toContain('DROP TABLE IF EXISTS "public"."orders"');
    expect(
      lintSql(
        allSql(p.expand.filter((s) => s.mode === 'transaction')).replace(/\n/g, ';\n'),
        {},
      ).filter((f) => f.rule !== 'require-lock-timeout'),
    ).toEqual([]);
  });

  it('setNotNull validates a check before SET NOT NULL; split and merge hide the old columns from the new version', () => {
    const p = program([
      { op: 'setNotNull', table: 'users', column: 'amount', up: "coalesce(amount, '0')" },
      {
        op: 'splitColumn',
        table: 'users',
        column: 'full_name',
        into: [
          { name: 'first_name', type: 'text', up: "split_part(full_name, ' ', 1)" },
          { name: 'last_name', type: 'text', up: "split_part(full_name, ' ', 2)" },
        ],
        down: "first_name || ' ' || last_name",
      },
    ]);
    expect(allSql(p.expand)).toContain('CHECK ("_rg_amount" IS NOT NULL) NOT VALID');
    expect(allSql(p.validate)).toContain('VALIDATE CONSTRAINT "_rg_nn_users_amount"');
    expect(allSql(p.contract)).toMatch(/SET NOT NULL[\s\S]*DROP CONSTRAINT "_rg_nn_users_amount"/);
    expect(allSql(p.views)).toContain('"first_name" AS "first_name", "last_name" AS "last_name"');
    expect(allSql(p.views)).not.toContain('"full_name" AS');
    expect(allSql(p.triggers)).toContain(
      `NEW."full_name" := ("n_first_name" || ' ' || "n_last_name");`,
    );
  });

  it('a dropped table disappears from the new version at once and physically at contract', () => {
    const p = program([{ op: 'dropTable', table: 'users' }]);
    expect(allSql(p.views)).not.toContain('CREATE VIEW');
    expect(allSql(p.contract)).toBe('DROP TABLE "public"."users"');
  });
});

describe('lint', () => {
  const rules = (sql: string, context = {}) => lintSql(sql, context).map((f) => f.rule);

  it('flags each unsafe statement with a message and a fix', () => {
    const findings = lintSql(`
      SET lock_timeout = '1s';
      ALTER TABLE users ADD COLUMN tier text NOT NULL;
      ALTER TABLE users ALTER COLUMN amount TYPE integer USING amount::integer;
      ALTER TABLE users DROP COLUMN full_name;
      CREATE INDEX users_email_idx ON users (email);
      ALTER TABLE users ADD CONSTRAINT c CHECK (amount > 0);
      ALTER TABLE users RENAME COLUMN email TO email_address;
      ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);
      DROP INDEX users_email_idx;
    `);
    expect(findings.map((f) => f.rule)).toEqual([
      'adding-required-field',
      'changing-column-type',
      'ban-drop-column',
      'require-concurrent-index-creation',
      'constraint-missing-not-valid',
      'renaming-column',
      'disallowed-unique-constraint',
      'require-concurrent-index-deletion',
    ]);
    for (const f of findings) {
      expect(f.message.length).toBeGreaterThan(20);
      expect(f.fix.length).toBeGreaterThan(5);
    }
    expect(findings[1]!.where).toBe('statement 3 (line 4)');
  });

  it('accepts the safe forms', () => {
    expect(
      rules(`
        SET lock_timeout = '1s';
        ALTER TABLE users ADD COLUMN tier text;
        ALTER TABLE users ADD COLUMN plan text NOT NULL DEFAULT 'free';
        CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
        ALTER TABLE users ADD CONSTRAINT c CHECK (amount > 0) NOT VALID;
        ALTER TABLE users VALIDATE CONSTRAINT c;
        DROP INDEX CONCURRENTLY users_email_idx;
        CREATE TABLE t (id bigint primary key);
        CREATE INDEX t_idx ON t (id);
      `),
    ).toEqual([]);
  });

  it('names the live version that still reads a dropped column; warns without lock_timeout', () => {
    const findings = lintSql('ALTER TABLE users DROP COLUMN email', {
      liveVersions: ['1.0.0'],
      reads: { '1.0.0': ['users.email'] },
    });
    expect(findings.map((f) => f.rule)).toEqual(['require-lock-timeout', 'drop-column-still-read']);
    expect(findings[1]!.message).toContain('live version 1.0.0 still reads');
    expect(rules('BEGIN; CREATE INDEX CONCURRENTLY i ON users (email); COMMIT;')).toContain(
      'ban-concurrent-index-creation-in-transaction',
    );
    expect(rules('ALTER TABLE users ADD COLUMN t timestamptz DEFAULT clock_timestamp()')).toContain(
      'adding-field-with-volatile-default',
    );
  });

  it('splits statements without breaking quoted text or function bodies', () => {
    const parts = splitStatements(
      `SELECT ';'; CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; -- done;\n`,
    );
    expect(parts.map((p) => p.text)).toEqual([
      `SELECT ';'`,
      'CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql',
    ]);
  });

  it('lints a plan against live versions that are not listed as old', () => {
    const p = plan([{ op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' }], {
      reads: { '0.9.0': ['users.email'] },
    });
    expect(lintPlan(p, { liveVersions: ['0.9.0', '2.0.0'] })).toEqual([
      expect.objectContaining({
        rule: 'drop-column-still-read',
        where: 'operations[0]',
        fix: 'add 0.9.0 to versions.old',
      }),
    ]);
    expect(lintPlan(p, { liveVersions: ['2.0.0'] })).toEqual([]);
  });
});

describe('contract gate', () => {
  it('refuses while an old, unknown or unlisted version is live; allows when only new versions run', () => {
    const versions = { old: ['1.0.0'], new: ['2.0.0'] };
    const blocked = contractGate({ versions }, [
      { id: 'a', version: '1.0.0' },
      { id: 'b', version: '2.0.0' },
      { id: 'c', version: null },
      { id: 'd', version: '3.0.0' },
    ]);
    expect(blocked.allowed).toBe(false);
    expect(blocked.blocking.map((b) => b.id)).toEqual(['a', 'c', 'd']);
    expect(contractGate({ versions }, [{ id: 'b', version: '2.0.0' }])).toEqual({
      allowed: true,
      blocking: [],
    });
  });
});

describe('migration aggregate', () => {
  const origin = { actor: 'alice', causationId: null };
  let sequence = 0;
  const envelope = (e: NewEvent): EventEnvelope =>
    ({
      ...e,
      id: `e${++sequence}`,
      occurredAt: '2026-01-01T00:00:00.000Z',
      sequence,
    }) as EventEnvelope;

  it('walks planned → expand → migrate → contract and refuses out-of-order phases', () => {
    const p = plan([{ op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' }]);
    let events: EventEnvelope[] = [];
    const state = () => fold(migrationAggregate, events);
    const apply = (d: NewEvent[]) => (events = [...events, ...d.map(envelope)]);
    apply(decidePlan(state(), { migrationId: 'm-1', database: 'db', plan: p }, origin));
    expect(state()).toMatchObject({ status: 'planned', service: 'accounts', plan: p });
    expect(() => decideStartPhase(state(), 'contract', origin)).toThrow(
      /cannot contract: it is planned/,
    );
    for (const phase of ['expand', 'migrate', 'contract'] as const) {
      apply(decideStartPhase(state(), phase, origin));
      apply(decidePhaseCompleted(state(), phase, { statements: 1, lockRetries: 1 }, origin));
    }
    expect(state()).toMatchObject({ status: 'completed', lockRetries: 3 });
    expect(() => decideStartPhase(state(), 'rollback', origin)).toThrow(/roll forward/);
  });
});

describe('generated names', () => {
  it('stay within 63 characters and distinct when long table and column names are truncated', () => {
    const prefix = 'x'.repeat(56);
    const column = 'c'.repeat(62);
    const tables = [`${prefix}_one`, `${prefix}_two`];
    const longSnapshot: SchemaSnapshot = {
      schema: 'public',
      tables: tables.map((name) => ({
        name,
        primaryKey: ['id'],
        columns: [
          { name: 'id', type: 'bigint', nullable: false, default: null },
          { name: column, type: 'text', nullable: true, default: null },
          { name: `${column}x`, type: 'text', nullable: true, default: null },
        ],
      })),
      indexes: [],
      constraints: [],
    };
    const result = compilePlan(
      plan(
        tables.flatMap((table) => [
          { op: 'setNotNull', table, column, up: `coalesce(${column}, '')` },
          { op: 'setNotNull', table, column: `${column}x`, up: `coalesce(${column}x, '')` },
        ]),
      ),
      longSnapshot,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const sql = [...result.program.expand, ...result.program.triggers]
      .flatMap((s) => s.sql)
      .join('\n');
    const generated = [...sql.matchAll(/"(_rg_[^"]*)"/g)].map((m) => m[1]!);
    const triggers = new Set(generated.filter((n) => n.startsWith('_rg_sync_')));
    const checks = new Set(generated.filter((n) => n.startsWith('_rg_nn_')));
    const shadows = new Set(
      generated.filter((n) => !n.startsWith('_rg_sync_') && !n.startsWith('_rg_nn_')),
    );
    expect(triggers.size).toBe(2);
    expect(checks.size).toBe(4);
    expect(shadows.size).toBe(2);
    for (const name of generated) expect(name.length).toBeLessThanOrEqual(63);
  });
});
