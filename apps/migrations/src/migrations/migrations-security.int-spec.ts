import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import request from 'supertest';
import { issueToken } from '@rollgate/platform';
import { createTestDatabase, eventually, tempTokensFile } from '@rollgate/platform/testing';
import { bootMigrationsService, fakeOrchestrator } from './testing/service-harness';

/** Issue #11: the migrate scope, the token's services for text plans, SQL safety, allowed targets. */
describe('migrations API security (embedded log + SQLite; target on PostgreSQL)', () => {
  let app: INestApplication;
  let db: { url: string; drop: () => Promise<void> };
  let target: Pool;
  const orchestrator = fakeOrchestrator();
  const tokensFile = tempTokensFile();
  const deployOnly = issueToken(tokensFile, { subject: 'ci', scopes: ['deploy', 'read'] });
  const migrator = issueToken(tokensFile, { subject: 'dba', scopes: ['migrate', 'read'] });
  const accountsOnly = issueToken(tokensFile, {
    subject: 'accounts-dba',
    scopes: ['migrate', 'read'],
    services: ['accounts'],
  });
  const post = (token: string, path: string, body: object = {}) =>
    request(app.getHttpServer()).post(path).set('Authorization', `Bearer ${token}`).send(body);
  const status = (id: string) =>
    request(app.getHttpServer())
      .get(`/migrations/${id}`)
      .set('Authorization', `Bearer ${migrator}`);
  const database = () => new URL(db.url).pathname.slice(1);

  beforeAll(async () => {
    db = await createTestDatabase();
    target = new Pool({ connectionString: db.url, max: 2 });
    await target.query(`CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL)`);
    await target.query(`CREATE TABLE victim (id int PRIMARY KEY)`);
    await orchestrator.listen(26_000);
    ({ app } = await bootMigrationsService({
      dataDir: mkdtempSync(join(tmpdir(), 'rollgate-mig-security-')),
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

  const plan = (name: string, operations: object[], extra: object = {}) => ({
    name,
    service: 'accounts',
    versions: { old: ['1.0.0'], new: ['2.0.0'] },
    operations,
    ...extra,
  });
  const addColumn = (name: string, column: object = { name: name, type: 'text' }) =>
    plan(name, [{ op: 'addColumn', table: 'users', column }]);

  /** A refusal with the usual validation body, naming exactly these fields. */
  const expectRefused = (res: request.Response, fields: string[]) => {
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
    });
    expect(res.body.details.map((d: { field: string }) => d.field)).toEqual(fields);
    for (const detail of res.body.details) expect(detail.problem).toEqual(expect.any(String));
  };

  const settled = (id: string, wanted: string) =>
    eventually(
      () => status(id),
      (r) => [wanted, 'failed'].includes(r.body.status),
      wanted,
    );

  it('needs the migrate scope on every mutating endpoint: a deploy-only token gets 403', async () => {
    const body = { database: database(), plan: addColumn('nickname') };
    await post(deployOnly, '/migrations', body).expect(403);
    const id = (await post(migrator, '/migrations', body).expect(201)).body.migrationId as string;
    await post(deployOnly, `/migrations/${id}/start`).expect(403);
    await post(migrator, `/migrations/${id}/start`).expect(202);
    expect((await settled(id, 'migrated')).body.status).toBe('migrated');
    await post(deployOnly, `/migrations/${id}/complete`).expect(403);
    await post(migrator, `/migrations/${id}/complete`).expect(200);

    const next = await post(migrator, '/migrations', {
      database: database(),
      plan: addColumn('motto'),
    }).expect(201);
    await post(deployOnly, `/migrations/${next.body.migrationId}/rollback`).expect(403);
    await post(migrator, `/migrations/${next.body.migrationId}/rollback`).expect(200);
    expect((await status(next.body.migrationId)).body.status).toBe('rolled-back');
  });

  it("holds a plan sent as text to the token's services, like a plan sent as an object", async () => {
    const yaml = (service: string) =>
      [
        'name: text_plan',
        `service: ${service}`,
        'versions: { old: ["1.0.0"], new: ["2.0.0"] }',
        'operations:',
        '  - { op: addColumn, table: users, column: { name: city, type: text } }',
      ].join('\n');
    const json = (service: string) => JSON.stringify({ ...addColumn('city'), service });
    for (const text of [yaml('billing'), json('billing')]) {
      const res = await post(accountsOnly, '/migrations', { database: database(), plan: text });
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('token of accounts-dba may not touch service billing');
    }
    const own = await post(accountsOnly, '/migrations', {
      database: database(),
      plan: yaml('accounts'),
    }).expect(201);
    await post(accountsOnly, `/migrations/${own.body.migrationId}/rollback`).expect(200);
  });

  it('refuses SQL smuggled into defaults, types, checks, up and down with 400 naming the field', async () => {
    const attempts: [object, string][] = [
      [
        addColumn('c1', {
          name: 'c1',
          type: 'text',
          default: "'x'; DROP TABLE victim; SELECT 'y'",
        }),
        'plan.operations[0].column.default',
      ],
      [
        addColumn('c2', { name: 'c2', type: 'text DEFAULT 1; DROP TABLE victim' }),
        'plan.operations[0].column.type',
      ],
      [
        plan('c3', [
          {
            op: 'addCheck',
            table: 'users',
            name: 'c3',
            expression: 'true) NOT VALID; DROP TABLE victim; SELECT (1',
          },
        ]),
        'plan.operations[0].expression',
      ],
      [
        plan('c4', [
          {
            op: 'addColumn',
            table: 'users',
            column: { name: 'c4', type: 'text', nullable: false },
            up: "'a' $rg$; DROP TABLE victim; $rg$",
          },
        ]),
        'plan.operations[0].up',
      ],
      [
        plan('c5', [
          {
            op: 'changeType',
            table: 'users',
            column: 'email',
            type: 'varchar(200)',
            up: 'email::varchar(200)',
            down: 'pg_sleep(30)::text',
          },
        ]),
        'plan.operations[0].down',
      ],
      [
        addColumn('c6', { name: 'c6', type: 'text', default: "E'\\x27; DROP TABLE victim; --'" }),
        'plan.operations[0].column.default',
      ],
      [
        addColumn('c7', { name: 'c7', type: 'text', default: "'x' -- ; DROP TABLE victim" }),
        'plan.operations[0].column.default',
      ],
      [
        addColumn('c8', { name: 'c8', type: 'text', default: '(SELECT count(*) FROM victim)' }),
        'plan.operations[0].column.default',
      ],
    ];
    for (const [body, field] of attempts)
      expectRefused(await post(migrator, '/migrations', { database: database(), plan: body }), [
        field,
      ]);
    const victim = await target.query(`SELECT to_regclass('public.victim') AS t`);
    expect(victim.rows[0].t).toBe('victim');
    const columns = await target.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'users' AND column_name LIKE 'c_'`,
    );
    expect(columns.rows).toEqual([]);
  });

  it("refuses Rollgate's and PostgreSQL's schemas, template databases and databases not listed", async () => {
    const create = (name: string, extra: object = {}) =>
      plan(
        name,
        [
          {
            op: 'createTable',
            table: 'intruder',
            columns: [{ name: 'id', type: 'int', primaryKey: true }],
          },
        ],
        extra,
      );
    const refusals: [object, string[]][] = [
      [
        { database: database(), plan: create('s1', { schema: 'rollgate_orchestrator' }) },
        ['plan.schema'],
      ],
      [{ database: database(), plan: create('s2', { schema: 'pg_catalog' }) }, ['plan.schema']],
      [
        { database: database(), plan: create('s3', { schema: 'information_schema' }) },
        ['plan.schema'],
      ],
      [{ database: database(), plan: create('flags', { schema: 'rollgate' }) }, ['plan.name']],
      [{ database: 'template1', plan: create('s5') }, ['database']],
      [{ database: 'postgres', plan: create('s6') }, ['database']],
    ];
    for (const [body, fields] of refusals)
      expectRefused(await post(migrator, '/migrations', body), fields);
    const created = await target.query(`SELECT to_regclass('public.intruder') AS t`);
    expect(created.rows[0].t).toBeNull();
  });
});
