import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import request from 'supertest';
import { issueToken, type ServiceRuntime } from '@rollgate/platform';
import { createTestDatabase, eventually, tempTokensFile } from '@rollgate/platform/testing';
import { bootMigrationsService, fakeOrchestrator } from './testing/service-harness';

describe('migrations API (embedded log + SQLite; target on PostgreSQL)', () => {
  let app: INestApplication;
  let runtime: ServiceRuntime;
  let db: { url: string; drop: () => Promise<void> };
  let target: Pool;
  const orchestrator = fakeOrchestrator();
  const tokensFile = tempTokensFile();
  const migrator = issueToken(tokensFile, { subject: 'dba', scopes: ['migrate', 'read'] });
  const http = () => request(app.getHttpServer());
  const post = (path: string, body: object = {}) =>
    http().post(path).set('Authorization', `Bearer ${migrator}`).send(body);
  const status = (id: string) =>
    http().get(`/migrations/${id}`).set('Authorization', `Bearer ${migrator}`);
  const database = () => new URL(db.url).pathname.slice(1);

  beforeAll(async () => {
    db = await createTestDatabase();
    target = new Pool({ connectionString: db.url, max: 2 });
    await target.query(`
      CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL, amount text NOT NULL);
      INSERT INTO users (email, amount) SELECT 'u' || g, g::text FROM generate_series(1, 3000) g;`);
    await orchestrator.listen(24_000);
    ({ app, runtime } = await bootMigrationsService({
      dataDir: mkdtempSync(join(tmpdir(), 'rollgate-mig-')),
      orchestratorUrl: orchestrator.url(),
      tokensFile,
      databases: [database()],
    }));
  });

  afterAll(async () => {
    await app.close();
    await target.end();
    await db.drop();
    await orchestrator.close();
  });

  const plan = (name: string, extra: object = {}) => ({
    name,
    service: 'accounts',
    versions: { old: ['1.0.0'], new: ['2.0.0'] },
    backfill: { batchSize: 500, pauseMs: 0 },
    operations: [
      { op: 'renameColumn', table: 'users', from: 'email', to: 'email_address' },
      {
        op: 'changeType',
        table: 'users',
        column: 'amount',
        type: 'integer',
        up: 'amount::integer',
        down: 'amount::text',
      },
    ],
    ...extra,
  });

  it('refuses invalid plans with the fields named, before anything touches the target', async () => {
    const res = await post('/migrations', {
      database: database(),
      plan: {
        ...plan('bad'),
        reads: { '2.0.0': ['users.amount'] },
        operations: [
          { op: 'renameColumn', table: 'user', from: 'email', to: 'mail' },
          { op: 'changeType', table: 'users', column: 'amount', type: 'integer' },
          { op: 'dropColumn', table: 'users', column: 'amount' },
        ],
      },
    }).expect(400);
    expect(res.body.details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'plan.operations[1].up', problem: expect.any(String) }),
        expect.objectContaining({ field: 'plan.operations[1].down', problem: expect.any(String) }),
      ]),
    );
    const second = await post('/migrations', {
      database: database(),
      plan: {
        ...plan('bad2'),
        reads: { '2.0.0': ['users.amount'] },
        operations: [
          { op: 'renameColumn', table: 'user', from: 'email', to: 'mail' },
          { op: 'dropColumn', table: 'users', column: 'amount' },
        ],
      },
    }).expect(400);
    expect(second.body.details).toMatchObject([
      { field: 'plan.operations[0].table', problem: "unknown table 'user' in schema public" },
      {
        field: 'plan.operations[1].column',
        problem: expect.stringMatching(/still read by new version 2\.0\.0/),
      },
    ]);
    const oneStep = await post('/migrations', {
      database: database(),
      plan: { ...plan('fast'), contract: 'with-expand' },
    }).expect(400);
    expect(oneStep.body.details[0]).toMatchObject({
      field: 'plan.contract',
      problem: expect.stringMatching(/separate releases/),
    });
    await post('/migrations', { database: 'no_such_db_mig', plan: plan('x') }).expect(400);
    const touched = await target.query(
      `SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'rollgate_migrations'`,
    );
    expect(touched.rows[0].n).toBe(0);
  });

  it('plans, expands and migrates; refuses contract while an old version is live; contracts once it is gone', async () => {
    orchestrator.state.fleet.push(
      { id: 'accounts-old-1', version: '1.0.0' },
      { id: 'accounts-new-1', version: '2.0.0' },
    );
    const yaml = [
      'name: rename_retype',
      'service: accounts',
      'versions: { old: ["1.0.0"], new: ["2.0.0"] }',
      'backfill: { batchSize: 500, pauseMs: 0 }',
      'operations:',
      '  - { op: renameColumn, table: users, from: email, to: email_address }',
      '  - { op: changeType, table: users, column: amount, type: integer, up: "amount::integer", down: "amount::text" }',
    ].join('\n');
    const planned = await post('/migrations', { database: database(), plan: yaml }).expect(201);
    const id = planned.body.migrationId as string;
    expect((await status(id).expect(200)).body).toMatchObject({
      status: 'planned',
      service: 'accounts',
    });

    await post(`/migrations/${id}/start`).expect(202);
    const migrated = await eventually(
      () => status(id),
      (r) => r.body.status === 'migrated' || r.body.status === 'failed',
      'migrated',
    );
    expect(migrated.body).toMatchObject({
      status: 'migrated',
      backfill: [{ table: 'users', rowsDone: 3000, rowsTotal: 3000 }],
      versionSchema: 'public_rename_retype',
    });

    const refused = await post(`/migrations/${id}/complete`).expect(409);
    expect(refused.body.message).toMatch(
      /accounts-old-1 \(runs 1\.0\.0, which needs the old schema\)/,
    );
    expect((await status(id)).body).toMatchObject({
      status: 'migrated',
      contractRefusal: expect.stringMatching(/accounts-old-1/),
    });
    const stillOld = await target.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY ordinal_position`,
    );
    expect(stillOld.rows.map((r) => r.column_name)).toEqual([
      'id',
      'email',
      'amount',
      '_rg_amount',
    ]);

    orchestrator.state.fleet.splice(0, 1); // the old instance is gone from the fleet view...
    // ...but the database still sees a session tagged with the old version: contract waits for it.
    const straggler = new Client({ connectionString: db.url, application_name: 'accounts@1.0.0' });
    await straggler.connect();
    const seen = await post(`/migrations/${id}/complete`).expect(409);
    expect(seen.body.message).toMatch(
      /db-session-\d+ \(runs 1\.0\.0, which needs the old schema\)/,
    );
    await straggler.end();
    await eventually(
      () =>
        target.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = 'accounts@1.0.0'`),
      (r) => r.rowCount === 0,
      'the straggler session to end',
    );
    await post(`/migrations/${id}/complete`).expect(200);
    expect((await status(id)).body).toMatchObject({ status: 'completed', contractRefusal: null });
    const after = await target.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users' ORDER BY column_name`,
    );
    expect(after.rows.map((r) => `${r.column_name}:${r.data_type}`)).toEqual([
      'amount:integer',
      'email_address:text',
      'id:bigint',
    ]);
    const rollback = await post(`/migrations/${id}/rollback`).expect(409);
    expect(rollback.body.message).toMatch(/roll forward/);
  });

  it('rolls back a migrated plan, and contracts automatically once the fleet allows it', async () => {
    orchestrator.state.fleet.splice(0, orchestrator.state.fleet.length, {
      id: 'accounts-old-2',
      version: '2.0.0',
    });
    const undo = await post('/migrations', {
      database: database(),
      plan: {
        ...plan('split_amount'),
        versions: { old: ['2.0.0'], new: ['3.0.0'] },
        operations: [
          {
            op: 'addColumn',
            table: 'users',
            column: { name: 'tier', type: 'text', nullable: false },
            up: "'free'",
          },
        ],
      },
    }).expect(201);
    await post(`/migrations/${undo.body.migrationId}/start`).expect(202);
    await eventually(
      () => status(undo.body.migrationId),
      (r) => r.body.status === 'migrated',
      'migrated',
    );
    await post(`/migrations/${undo.body.migrationId}/rollback`).expect(200);
    expect((await status(undo.body.migrationId)).body.status).toBe('rolled-back');
    const columns = await target.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'`,
    );
    expect(columns.rows.map((r) => r.column_name)).not.toContain('tier');

    const auto = await post('/migrations', {
      database: database(),
      plan: {
        ...plan('tier_auto'),
        contract: 'automatic',
        versions: { old: ['2.0.0'], new: ['3.0.0'] },
        operations: [
          {
            op: 'addColumn',
            table: 'users',
            column: { name: 'tier', type: 'text', nullable: false },
            up: "'free'",
          },
        ],
      },
    }).expect(201);
    await post(`/migrations/${auto.body.migrationId}/start`).expect(202);
    await eventually(
      () => status(auto.body.migrationId),
      (r) => r.body.contractRefusal !== null,
      'a refused automatic contract',
    );
    orchestrator.state.fleet.splice(0, 1, { id: 'accounts-new-3', version: '3.0.0' });
    await eventually(
      () => status(auto.body.migrationId),
      (r) => r.body.status === 'completed',
      'automatic contract',
    );
    const notNull = await target.query(
      `SELECT is_nullable FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'tier'`,
    );
    expect(notNull.rows[0].is_nullable).toBe('NO');
  });

  it('rolls a migration back when the release of its new version is rolled back (when configured)', async () => {
    const planned = await post('/migrations', {
      database: database(),
      plan: {
        ...plan('with_release'),
        rollbackWithRelease: true,
        versions: { old: ['3.0.0'], new: ['4.0.0'] },
        operations: [
          { op: 'addColumn', table: 'users', column: { name: 'nickname', type: 'text' } },
        ],
      },
    }).expect(201);
    const id = planned.body.migrationId as string;
    await post(`/migrations/${id}/start`).expect(202);
    await eventually(
      () => status(id),
      (r) => r.body.status === 'migrated',
      'migrated',
    );
    orchestrator.state.releases.set('rel-other', '9.9.9');
    orchestrator.state.releases.set('rel-4', '4.0.0');
    const rolledBack = (releaseId: string) => ({
      type: 'ReleaseRolledBack',
      version: 1,
      actor: 'orchestrator',
      correlationId: releaseId,
      causationId: null,
      key: 'accounts',
      data: { releaseId, service: 'accounts', reason: 'canary failed' },
    });
    // A rollback of a release of another version leaves the migration alone.
    await runtime.log.append([rolledBack('rel-other')]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await status(id)).body.status).toBe('migrated');
    await runtime.log.append([rolledBack('rel-4')]);
    await eventually(
      () => status(id),
      (r) => r.body.status === 'rolled-back',
      'rolled back with the release',
    );
    const columns = await target.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'users'`,
    );
    expect(columns.rows.map((r) => r.column_name)).not.toContain('nickname');
  });

  it('lints raw SQL and plans', async () => {
    const res = await post('/migrations/lint', {
      sql: 'ALTER TABLE users ALTER COLUMN amount TYPE bigint;',
      liveVersions: [],
    }).expect(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.findings.map((f: { rule: string }) => f.rule)).toEqual([
      'require-lock-timeout',
      'changing-column-type',
    ]);
    const clean = await post('/migrations/lint', { plan: plan('clean') }).expect(200);
    expect(clean.body).toEqual({ ok: true, problems: [], findings: [] });
    // Optional fields may be left out, not sent as null (a null once reached the linter: 500).
    for (const field of ['sql', 'plan', 'liveVersions', 'reads']) {
      const refused = await post('/migrations/lint', { [field]: null }).expect(400);
      expect(refused.body.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });
});
