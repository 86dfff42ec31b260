import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { issueToken } from '@rollgate/platform';
import {
  api,
  cli,
  digest,
  healthy,
  portsEnv,
  SERVICES,
  start,
  stop,
  tempDir,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const databaseUrl =
  process.env['ROLLGATE_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = tempDir('production');
const prefix = `e2e${randomUUID().slice(0, 6)}_`;
const env = {
  ...portsEnv(18000),
  ROLLGATE_MODE: 'production',
  // This drill is about processes and storage; releases stay where the API puts them.
  ROLLGATE_RECONCILER: 'off',
  ROLLGATE_SCHEMA_PREFIX: prefix,
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'ci', scopes: ['deploy'] });

async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const db = new DataSource({ type: 'postgres', url: databaseUrl });
  await db.initialize();
  try {
    return (await db.query(sql, params)) as T[];
  } finally {
    await db.destroy();
  }
}

const startService = (service: string) => start(`apps/${service}/src/main.ts`, env);

describe('production mode: five processes on Kafka and PostgreSQL', () => {
  const procs = new Map<string, Proc>();

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => stop(p)));
    for (const service of SERVICES)
      await query(`DROP SCHEMA IF EXISTS "${prefix}${service}" CASCADE`);
  });

  it('runs each app as its own process, each in its own schema, and survives a crash of one', async () => {
    for (const service of SERVICES) procs.set(service, startService(service));
    await waitFor(
      async () =>
        (
          await Promise.all(
            SERVICES.map((s) =>
              healthy((env as Record<string, string>)[`ROLLGATE_${s.toUpperCase()}_URL`]!),
            ),
          )
        ).every(Boolean),
      `five healthy services:\n${[...procs.values()].map((p) => p.output()).join('\n')}`,
    );
    expect(new Set([...procs.values()].map((p) => p.child.pid)).size).toBe(5);

    const status = await cli(['status', '--json'], env);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.output) as { service: string; status: string }[];
    // On a broker shared with earlier suites the fresh schemas replay a long log: degraded (serving,
    // consumers behind) is a serving answer too.
    expect(rows.map((r) => [r.service, r.status === 'degraded' ? 'up' : r.status])).toEqual(
      SERVICES.map((s) => [s, 'up']),
    );

    const schemas = await query<{ schema_name: string }>(
      'SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE $1 ORDER BY schema_name',
      [`${prefix}%`],
    );
    expect(schemas.map((s) => s.schema_name)).toEqual(
      [...SERVICES].sort().map((s) => `${prefix}${s}`),
    );

    const service = `prod-${randomUUID().slice(0, 6)}`;
    const created = await api(`${orchestrator}/releases`, 'POST', token, {
      service,
      artifact: { name: service, digest: digest('9') },
      first: true,
    });
    expect(created.status).toBe(201);
    const releaseId = created.body['releaseId'] as string;
    await waitFor(
      async () =>
        (await api(`${orchestrator}/releases/${releaseId}`, 'GET', undefined)).status === 200,
      'projection',
    );

    await stop(procs.get('orchestrator')!, 'SIGKILL');
    expect(await healthy(orchestrator).catch(() => false)).toBe(false);
    const degraded = await cli(['status'], env);
    expect(degraded.code).toBe(1);

    procs.set('orchestrator', startService('orchestrator'));
    await waitFor(() => healthy(orchestrator), 'orchestrator restarted');
    const afterCrash = await api(`${orchestrator}/releases/${releaseId}`, 'GET', undefined);
    expect(afterCrash.body).toMatchObject({
      id: releaseId,
      service,
      phase: 'progressing',
      requestedBy: 'user:ci',
    });

    const aborted = await api(`${orchestrator}/releases/${releaseId}/abort`, 'POST', token, {
      reason: 'crash drill',
    });
    expect(aborted.status).toBe(200);
    await waitForPhase(orchestrator, releaseId, ['aborted']);
    const [checkpoint] = await query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM "${prefix}orchestrator".projection_checkpoints`,
    );
    expect(Number(checkpoint!.n)).toBeGreaterThan(0);
    const outbox = await query<{ n: string }>(
      `SELECT COUNT(*) AS n FROM "${prefix}orchestrator".outbox`,
    );
    expect(Number(outbox[0]!.n)).toBe(0);
  }, 180_000);
});
