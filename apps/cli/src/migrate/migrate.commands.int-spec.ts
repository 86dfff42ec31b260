import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Pool } from 'pg';
import {
  MigrationsAppModule,
  MIGRATIONS_PERSISTENCE,
  MIGRATIONS_SERVICE,
} from '@rollgate/app-migrations';
import {
  FileTokenStore,
  issueToken,
  parseConfig,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { createTestDatabase, openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';
import { progressBar } from './migrate.commands';

describe('rollgate migrate against a real migrations service and PostgreSQL', () => {
  let app: INestApplication;
  let url: string;
  let db: { url: string; drop: () => Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-cli-mig-'));
  const tokensFile = tempTokensFile();
  const token = issueToken(tokensFile, { subject: 'cli-dba', scopes: ['migrate', 'read'] });
  const fleet = [{ id: 'shop-1', version: '1.0.0' }];
  const orchestrator: Server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        instances: fleet.map((i) => ({ id: i.id, reported: { version: i.version } })),
      }),
    ),
  );

  beforeAll(async () => {
    db = await createTestDatabase('mig_cli_');
    const pool = new Pool({ connectionString: db.url });
    await pool.query(`CREATE TABLE orders (id bigserial PRIMARY KEY, total text NOT NULL);
      INSERT INTO orders (total) SELECT g::text FROM generate_series(1, 2000) g;`);
    await pool.end();
    await new Promise<void>((resolve) =>
      orchestrator.listen(24_000 + 900 + Math.floor(Math.random() * 99), '127.0.0.1', resolve),
    );
    const runtime = await openTestRuntime('migrations', MIGRATIONS_PERSISTENCE, {
      ROLLGATE_MIGRATION_DATABASES: new URL(db.url).pathname.slice(1),
      ROLLGATE_ORCHESTRATOR_URL: `http://127.0.0.1:${(orchestrator.address() as AddressInfo).port}`,
    });
    app = await NestFactory.create(
      MigrationsAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, MIGRATIONS_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
    await new Promise((resolve) => orchestrator.close(resolve));
  });

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', token, ...argv], {
      config: parseConfig({ ROLLGATE_MIGRATIONS_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  it('draws a progress bar', () => {
    expect(progressBar(1200, 2000, 10)).toBe('[██████░░░░]  60%  1,200/2,000 rows');
    expect(progressBar(0, 0, 4)).toBe('[████] 100%  0/0 rows');
  });

  it('lints SQL and plans offline, exit 1 on unsafe operations', async () => {
    writeFileSync(join(dir, 'bad.sql'), 'CREATE INDEX orders_total_idx ON orders (total);\n');
    const bad = await run('migrate', 'lint', join(dir, 'bad.sql'));
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain('require-concurrent-index-creation');
    expect(bad.stdout).toContain('fix: CREATE INDEX CONCURRENTLY');
    writeFileSync(join(dir, 'broken.yaml'), 'name: x\nservice: shop\noperations: []\n');
    const broken = await run('migrate', 'lint', join(dir, 'broken.yaml'));
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain('versions: is required');
  });

  it('plans, starts with a watched backfill, refuses contract while 1.0.0 is live, completes after', async () => {
    writeFileSync(
      join(dir, 'retype.yaml'),
      [
        'name: retype_total',
        'service: shop',
        'versions: { old: ["1.0.0"], new: ["2.0.0"] }',
        'backfill: { batchSize: 250, pauseMs: 0 }',
        'operations:',
        '  - { op: changeType, table: orders, column: total, type: integer, up: "total::integer", down: "total::text" }',
      ].join('\n'),
    );
    const database = new URL(db.url).pathname.slice(1);
    const planned = await run('migrate', 'plan', join(dir, 'retype.yaml'), '--database', database);
    expect(planned.exitCode).toBe(0);
    const id = /planned migration (\S+)/.exec(planned.stdout)![1]!;

    const started = await run('migrate', 'start', id, '--watch');
    expect(started.exitCode).toBe(0);
    expect(started.stdout).toContain('status    migrated');
    expect(started.stdout).toContain(`backfill  orders           ${progressBar(2000, 2000)}`);
    expect(started.stdout).toContain('SET search_path TO public_retype_total');

    const refused = await run('migrate', 'complete', id);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/error \(409\): contract refused/);
    expect(refused.stderr).toContain('shop-1: runs 1.0.0, which needs the old schema');

    fleet.splice(0, 1, { id: 'shop-2', version: '2.0.0' });
    const completed = await run('migrate', 'complete', id);
    expect(completed.exitCode).toBe(0);
    expect(completed.stdout).toContain('status    completed');
    const status = await run('migrate', 'status', id);
    expect(status.stdout).toContain('status    completed (phase contract)');
  });
});
