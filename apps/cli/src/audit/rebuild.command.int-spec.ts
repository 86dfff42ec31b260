import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { releaseHistory } from '@rollgate/audit';
import { dropSchema } from '@rollgate/persistence';
import { openEventLog, openServiceRuntime, parseConfig, startReadModels } from '@rollgate/platform';
import { ORCHESTRATOR_PERSISTENCE } from '@rollgate/app-orchestrator';
import { runCli } from '../program';

async function cli(env: Record<string, string>, ...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    config: parseConfig(env),
    output: { out: (t) => (out += t), err: (t) => (err += t) },
  });
  return { code, out, err };
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 100_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs SQL against the live read model of the orchestrator, behind the service's back. */
type Sql = (sql: string) => Promise<unknown[]>;

const prefix = `t${randomUUID().slice(0, 8)}_`;
const modes: [string, Record<string, string>, (env: Record<string, string>) => Sql][] = [
  [
    'embedded log + SQLite',
    { ROLLGATE_MODE: 'embedded' },
    (env) => async (sql) => {
      const db = new Database(join(env['ROLLGATE_DATA_DIR']!, 'orchestrator.db'));
      try {
        const statement = db.prepare(sql);
        return statement.reader ? statement.all() : [statement.run()];
      } finally {
        db.close();
      }
    },
  ],
  [
    'Kafka + PostgreSQL',
    { ROLLGATE_MODE: 'production', ROLLGATE_SCHEMA_PREFIX: prefix },
    () => async (sql) => {
      const pg = new DataSource({
        type: 'postgres',
        url: 'postgres://postgres@127.0.0.1:5432/postgres',
        extra: { options: `-c search_path=${prefix}orchestrator` },
      });
      await pg.initialize();
      try {
        return (await pg.query(sql)) as unknown[];
      } finally {
        await pg.destroy();
      }
    },
  ],
];

describe.each(modes)('rollgate audit rebuild --verify on %s', (_label, mode, sqlOf) => {
  const env: Record<string, string> = {
    ...mode,
    ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-rebuild-')),
  };
  const sql = sqlOf(env);
  const tag = randomUUID().slice(0, 6);
  const good = `rel-ok-${tag}`;
  const bad = `rel-bad-${tag}`;

  beforeAll(async () => {
    const config = parseConfig({ ...env, ROLLGATE_RECONCILER: 'off' });
    const runtime = await openServiceRuntime(config, 'orchestrator', ORCHESTRATOR_PERSISTENCE);
    const readModels = await startReadModels(runtime, ORCHESTRATOR_PERSISTENCE.readModels);
    try {
      const start = Date.parse('2026-05-01T10:00:00.000Z');
      // No requests on the (possibly shared) topics: other suites' routers and analysis services
      // would act on them. The facts are what the orchestrator's read models fold.
      await runtime.log.append(
        [
          ...releaseHistory({ releaseId: good, service: `svc-a-${tag}`, start }),
          ...releaseHistory({ releaseId: bad, service: `svc-b-${tag}`, start, fail: true }),
        ].filter((e) => e.type !== 'RouteChangeRequested' && e.type !== 'AnalysisRequested'),
      );
      await until(async () => {
        const rows = (await runtime.dataSource.query(
          `SELECT phase FROM releases WHERE id IN ('${good}', '${bad}')`,
        )) as { phase: string }[];
        const verdicts = (await runtime.dataSource.query(
          `SELECT COUNT(*) AS n FROM analysis_verdicts WHERE release_id IN ('${good}', '${bad}')`,
        )) as { n: number | string }[];
        return (
          rows
            .map((r) => r.phase)
            .sort()
            .join() === 'rolled-back,succeeded' && Number(verdicts[0]!.n) === 6
        );
      }, 'the read model to catch up');
    } finally {
      await readModels.close();
      await runtime.close();
    }
  }, 120_000);

  afterAll(async () => {
    if (env['ROLLGATE_MODE'] === 'production') {
      await dropSchema('postgres://postgres@127.0.0.1:5432/postgres', `${prefix}orchestrator`);
    }
  });

  it('passes when the read models are exactly what the log says, up to their checkpoints', async () => {
    // Events the live read model has not projected yet are not a difference: the rebuild stops
    // at the live checkpoints it read in the same snapshot as the rows.
    const log = openEventLog(parseConfig(env), 'rebuild-spec');
    await log.append(
      releaseHistory({
        releaseId: `rel-late-${tag}`,
        service: `svc-c-${tag}`,
        start: Date.parse('2026-05-02T10:00:00.000Z'),
      }).filter((e) => e.type !== 'RouteChangeRequested' && e.type !== 'AnalysisRequested'),
    );
    await log.close();
    const { code, out, err } = await cli(
      env,
      'audit',
      'rebuild',
      '--verify',
      '--services',
      'orchestrator,router',
      '--progress-every',
      '10',
    );
    expect(err).toMatch(/^orchestrator\/releases: 10 events$/m);
    expect(err).not.toMatch(/^error/m);
    expect(out).toMatch(
      /^orchestrator: \d+ events; rows releases \d+, service_policy_versions \d+, route_answers \d+, analysis_verdicts \d+, share_raise_requests \d+, projection_checkpoints \d+; matches the log$/m,
    );
    expect(out).toContain('router: skipped, declares no read models');
    expect(out).not.toContain('rel-late');
    expect(code).toBe(0);
  });

  it('fails and names the rows when a read-model row was tampered with or lost', async () => {
    await sql(`UPDATE releases SET phase = 'succeeded' WHERE id = '${bad}'`);
    await sql(`DELETE FROM analysis_verdicts WHERE analysis_run_id = '${good}-run-0'`);
    const { code, out, err } = await cli(
      env,
      'audit',
      'rebuild',
      '--verify',
      '--services',
      'orchestrator',
    );
    expect(code).toBe(1);
    expect(out).toContain('orchestrator: ');
    expect(out).toContain('2 difference(s)');
    expect(out).toContain(`orchestrator.releases [id=${bad}]: differs`);
    expect(out).toMatch(/phase: live succeeded\n\s+log {2}rolled-back/);
    expect(out).toContain(
      `orchestrator.analysis_verdicts [analysis_run_id=${good}-run-0]: in the rebuild, missing from the live read model`,
    );
    expect(err).toContain('error: 2 read-model row(s) differ from what the log says');
  });
});
