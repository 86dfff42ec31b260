import type { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import request from 'supertest';
import { issueToken, type ServiceRuntime } from '@rollgate/platform';
import { createTestDatabase, eventually, tempTokensFile } from '@rollgate/platform/testing';
import { EventStore } from '@rollgate/persistence';
import {
  decideStartPhase,
  migrationAggregate,
  migrationStreamId,
} from '@rollgate/migrations-domain';
import { bootMigrationsService, fakeOrchestrator } from './testing/service-harness';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Crash and concurrency paths: lost release rollbacks, double starts, restarts mid-flight. */
describe('migrations service recovery (embedded log + SQLite; target on PostgreSQL)', () => {
  let app: INestApplication | undefined;
  let runtime: ServiceRuntime;
  let db: { url: string; drop: () => Promise<void> };
  let target: Pool;
  const orchestrator = fakeOrchestrator();
  const tokensFile = tempTokensFile();
  const migrator = issueToken(tokensFile, { subject: 'dba', scopes: ['migrate', 'read'] });
  const dataDir = mkdtempSync(join(tmpdir(), 'rollgate-mig-recovery-'));
  const http = () => request(app!.getHttpServer());
  const post = (path: string, body: object = {}) =>
    http().post(path).set('Authorization', `Bearer ${migrator}`).send(body);
  const status = (id: string) =>
    http().get(`/migrations/${id}`).set('Authorization', `Bearer ${migrator}`);
  const database = () => new URL(db.url).pathname.slice(1);

  /** Boots the service on the same data directory (a restart keeps its log and read model). */
  async function boot(): Promise<void> {
    ({ app, runtime } = await bootMigrationsService({
      dataDir,
      orchestratorUrl: orchestrator.url(),
      tokensFile,
      databases: [database()],
    }));
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    target = new Pool({ connectionString: db.url, max: 2 });
    await target.query(`
      CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL);
      INSERT INTO users (email) SELECT 'u' || g FROM generate_series(1, 2000) g;`);
    await orchestrator.listen(25_000);
    await boot();
  });

  afterAll(async () => {
    await app?.close();
    await target.end();
    await db.drop();
    await orchestrator.close();
  });

  const plan = (name: string, versions: { old: string[]; new: string[] }, extra: object = {}) => ({
    name,
    service: 'accounts',
    versions,
    backfill: { batchSize: 500, pauseMs: 0 },
    operations: [{ op: 'addColumn', table: 'users', column: { name, type: 'text' } }],
    ...extra,
  });

  async function migrated(id: string): Promise<void> {
    await eventually(
      () => status(id),
      (r) => ['migrated', 'failed'].includes(r.body.status),
      'migrated',
    );
    expect((await status(id)).body.status).toBe('migrated');
  }

  it('a release rollback heard while the orchestrator is down still rolls the migration back once it is up', async () => {
    const planned = await post('/migrations', {
      database: database(),
      plan: plan('nick_release', { old: ['1.0.0'], new: ['2.0.0'] }, { rollbackWithRelease: true }),
    }).expect(201);
    const id = planned.body.migrationId as string;
    await post(`/migrations/${id}/start`).expect(202);
    await migrated(id);
    orchestrator.state.releases.set('rel-2', '2.0.0');
    orchestrator.state.down = true;
    await runtime.log.append([
      {
        type: 'ReleaseRolledBack',
        version: 1,
        actor: 'orchestrator',
        correlationId: 'rel-2',
        causationId: null,
        key: 'accounts',
        data: { releaseId: 'rel-2', service: 'accounts', reason: 'canary failed' },
      },
    ]);
    await wait(600);
    expect((await status(id)).body.status).toBe('migrated');
    orchestrator.state.down = false;
    await eventually(
      () => status(id),
      (r) => r.body.status === 'rolled-back',
      'rolled back once the orchestrator answers',
    );
  });
  const phasesStarted = async (id: string) =>
    (await runtime.eventStore.load(migrationStreamId(id)))
      .filter((e) => e.type === 'MigrationPhaseStarted')
      .map((e) => (e.data as { phase: string }).phase);

  /** What another replica running a phase of the migration holds on the target database. */
  async function holdElsewhere(id: string): Promise<Client> {
    const other = new Client({ connectionString: db.url });
    other.on('error', () => undefined);
    await other.connect();
    await other.query(`SELECT pg_advisory_lock(hashtextextended($1, 0))`, [
      `rollgate-migration:${id}`,
    ]);
    return other;
  }

  it('two concurrent starts run the phase once; a phase held by another process is not resumed', async () => {
    const planned = await post('/migrations', {
      database: database(),
      plan: plan('nick_twice', { old: ['1.0.0'], new: ['2.0.0'] }),
    }).expect(201);
    const id = planned.body.migrationId as string;
    const answers = await Promise.all([
      post(`/migrations/${id}/start`),
      post(`/migrations/${id}/start`),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    await migrated(id);
    expect(await phasesStarted(id)).toEqual(['expand', 'migrate']);
    await post(`/migrations/${id}/rollback`).expect(200);

    // Another replica holds the migration: its "running" status is not a crash to resume.
    const other = await post('/migrations', {
      database: database(),
      plan: plan('nick_elsewhere', { old: ['1.0.0'], new: ['2.0.0'] }),
    }).expect(201);
    const otherId = other.body.migrationId as string;
    const holder = await holdElsewhere(otherId);
    const refused = await post(`/migrations/${otherId}/start`).expect(409);
    expect(refused.body.message).toMatch(/another process/);
    await holder.end();
    await post(`/migrations/${otherId}/start`).expect(202);
    await migrated(otherId);
    await post(`/migrations/${otherId}/rollback`).expect(200);
  });

  it('complete resumes a contract a crashed process left in contracting, unless another process runs it', async () => {
    const planned = await post('/migrations', {
      database: database(),
      plan: plan('nick_contract', { old: ['1.0.0'], new: ['2.0.0'] }),
    }).expect(201);
    const id = planned.body.migrationId as string;
    await post(`/migrations/${id}/start`).expect(202);
    await migrated(id);
    orchestrator.state.fleet.splice(0, orchestrator.state.fleet.length, {
      id: 'accounts-new-1',
      version: '2.0.0',
    });
    // What a process that died right after starting contract leaves behind.
    await app!
      .get(EventStore)
      .execute(migrationAggregate, migrationStreamId(id), (s) =>
        decideStartPhase(s, 'contract', { actor: 'crashed', causationId: null }),
      );
    expect((await status(id)).body.status).toBe('contracting');
    const holder = await holdElsewhere(id);
    await post(`/migrations/${id}/complete`).expect(409);
    await holder.end();
    await post(`/migrations/${id}/complete`).expect(200);
    expect((await status(id)).body.status).toBe('completed');
    const columns = await target.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'users'`,
    );
    expect(columns.rows.map((r) => r.column_name)).toContain('nick_contract');
  });
  it('an automatic contract still waiting when the service restarts contracts after the restart', async () => {
    orchestrator.state.fleet.splice(0, orchestrator.state.fleet.length, {
      id: 'accounts-old-1',
      version: '1.0.0',
    });
    const planned = await post('/migrations', {
      database: database(),
      plan: plan('nick_auto', { old: ['1.0.0'], new: ['2.0.0'] }, { contract: 'automatic' }),
    }).expect(201);
    const id = planned.body.migrationId as string;
    await post(`/migrations/${id}/start`).expect(202);
    await eventually(
      () => status(id),
      (r) => r.body.contractRefusal !== null,
      'a refused automatic contract',
    );
    await app!.close();
    app = undefined;
    orchestrator.state.fleet.splice(0, 1, { id: 'accounts-new-1', version: '2.0.0' });
    await boot();
    await eventually(
      () => status(id),
      (r) => r.body.status === 'completed',
      'the automatic contract after the restart',
    );
  });
});
