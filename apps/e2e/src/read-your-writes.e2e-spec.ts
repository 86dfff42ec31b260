import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import { issueToken } from '@rollgate/platform';
import { createTestDatabase } from '@rollgate/platform/testing';
import {
  digest,
  dropServiceSchemas,
  emptyFleet,
  portsEnv,
  startEmbeddedHost,
  startServiceProcesses,
  stop,
  tempDir,
  type Proc,
} from './support';

/**
 * Read-your-writes, route by route (docs/adr/0008-read-your-writes.md): every mutating route of
 * every service is written and then read back at once, TRIES times, and the read must show the
 * write. Same table on the embedded default and in production mode (five processes, Kafka,
 * PostgreSQL).
 */
const TRIES = 50;

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

type Call = (
  service: 'orchestrator' | 'flags' | 'migrations',
  method: string,
  path: string,
  body?: unknown,
) => Promise<Answer>;

/** Per route: tries, how many reads missed the write, and each write's time in ms. */
type Tally = Map<string, { tries: number; misses: string[]; writeMs: number[] }>;

function caller(env: Record<string, string>, token: string): Call {
  return async (service, method, path, body) => {
    const base = env[`ROLLGATE_${service.toUpperCase()}_URL`]!;
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    return {
      status: response.status,
      body: (Array.isArray(parsed) ? { items: parsed } : parsed) as Record<string, unknown>,
      headers: response.headers,
    };
  };
}

/** Writes, checks the 2xx, then reads at once and records whether the read showed the write. */
function recorder(tally: Tally) {
  return async (
    route: string,
    write: () => Promise<Answer>,
    read: (write: Answer) => Promise<Answer>,
    shows: (read: Answer, write: Answer) => boolean,
  ): Promise<Answer> => {
    const started = performance.now();
    const written = await write();
    const entry = tally.get(route) ?? { tries: 0, misses: [], writeMs: [] };
    tally.set(route, entry);
    entry.writeMs.push(performance.now() - started);
    if (written.status < 200 || written.status > 299) {
      throw new Error(`${route}: ${written.status} ${JSON.stringify(written.body)}`);
    }
    entry.tries++;
    const seen = await read(written);
    if (!shows(seen, written)) entry.misses.push(`${seen.status} ${JSON.stringify(seen.body)}`);
    return written;
  };
}

async function releaseRoutes(call: Call, check: ReturnType<typeof recorder>, run: string) {
  const service = `ryw-${run}`;
  const view = (id: string) => call('orchestrator', 'GET', `/releases/${id}`);
  for (let i = 0; i < TRIES; i++) {
    const created = await check(
      'POST /releases',
      () =>
        call('orchestrator', 'POST', '/releases', {
          service,
          artifact: { name: service, digest: digest(i % 2 ? 'b' : 'c') },
          version: `1.0.${i}`,
          first: true,
        }),
      async () => call('orchestrator', 'GET', `/releases?service=${service}`),
      (read, write) =>
        write.status === 201 &&
        write.headers.get('location') === `/releases/${String(write.body['releaseId'])}` &&
        (read.body['items'] as { id: string }[]).some((r) => r.id === write.body['releaseId']),
    );
    const id = String(created.body['releaseId']);
    const phase = (expected: string[]) => (read: Answer) =>
      expected.includes(String(read.body['phase']));
    await check(
      'POST /releases/:id/pause',
      () => call('orchestrator', 'POST', `/releases/${id}/pause`, { reason: 'look' }),
      () => view(id),
      phase(['paused']),
    );
    await check(
      'POST /releases/:id/resume',
      () => call('orchestrator', 'POST', `/releases/${id}/resume`),
      () => view(id),
      phase(['progressing']),
    );
    const before = String((await view(id)).body['updatedAt']);
    await check(
      'POST /releases/:id/promote',
      () => call('orchestrator', 'POST', `/releases/${id}/promote`, { full: true }),
      () => view(id),
      (read) => String(read.body['updatedAt']) !== before,
    );
    await check(
      'POST /releases/:id/abort',
      () => call('orchestrator', 'POST', `/releases/${id}/abort`, { reason: 'done' }),
      () => view(id),
      phase(['aborted']),
    );
  }
}

async function flagRoutes(call: Call, check: ReturnType<typeof recorder>, run: string) {
  const project = `ryw${run}`;
  const q = `?project=${project}`;
  // The flag's read model carries the ruleset version of its last change.
  const flagShows = (read: Answer, write: Answer) =>
    read.status === 200 && Number(read.body['version']) >= Number(write.body['rulesetVersion']);
  for (let i = 0; i < TRIES; i++) {
    const key = `f${i}`;
    const flag = () => call('flags', 'GET', `/flags/${key}${q}`);
    const flagCheck = (route: string, method: string, path: string, body?: unknown) =>
      check(route, () => call('flags', method, `${path}${q}`, body), flag, flagShows);
    // Creates the project the first time, changes its settings after that.
    await check(
      'POST /flags/projects',
      () =>
        call('flags', 'POST', '/flags/projects', {
          name: project,
          blockReleasesOnExpiredFlags: i % 2 === 0,
        }),
      () => call('flags', 'GET', `/flags/ruleset${q}`),
      (read, write) =>
        read.status === 200 &&
        Number(read.headers.get('etag')?.replace(/"/g, '')) >=
          Number(write.body['rulesetVersion']) &&
        write.headers.get('location') === `/flags${q}`,
    );
    await check(
      'PUT /flags/segments/:key',
      () =>
        call('flags', 'PUT', `/flags/segments/s${i}${q}`, {
          constraints: [{ attribute: 'plan', operator: 'IN', values: ['beta'] }],
        }),
      () => call('flags', 'GET', `/flags/segments${q}`),
      (read) => (read.body['items'] as { key: string }[]).some((s) => s.key === `s${i}`),
    );
    await check(
      'POST /flags',
      () => call('flags', 'POST', '/flags', { project, key, type: 'release', owner: 'ryw' }),
      flag,
      (read, write) =>
        flagShows(read, write) &&
        write.headers.get('location') === `/flags/${key}?project=${project}`,
    );
    await flagCheck(
      'PUT /flags/:key/environments/:environment',
      'PUT',
      `/flags/${key}/environments/production`,
      { enabled: true, rollout: { percentage: 0 }, force: true, reason: 'no fleet in this test' },
    );
    await flagCheck('PATCH /flags/:key', 'PATCH', `/flags/${key}`, { description: `try ${i}` });
    await flagCheck('POST /flags/:key/rollout', 'POST', `/flags/${key}/rollout`, {
      environment: 'production',
      percentage: 5,
    });
    await flagCheck('POST /flags/:key/guarded-rollout', 'POST', `/flags/${key}/guarded-rollout`, {
      environment: 'production',
      steps: [10, 50],
      stepSeconds: 60,
    });
    const ramp = `/flags/${key}/guarded-rollout${q}&environment=production`;
    await check(
      'DELETE /flags/:key/guarded-rollout',
      () => call('flags', 'DELETE', ramp),
      () => call('flags', 'GET', ramp),
      (read) => read.status === 200 && read.body['status'] === 'cancelled',
    );
    await flagCheck('POST /flags/:key/kill', 'POST', `/flags/${key}/kill`, {
      environment: 'production',
      reason: 'ryw',
    });
    await flagCheck('POST /flags/:key/extend', 'POST', `/flags/${key}/extend`, {
      expiresAt: '2099-01-01T00:00:00.000Z',
      reason: 'ryw',
    });
    await flagCheck('POST /flags/:key/retire', 'POST', `/flags/${key}/retire`, { reason: 'ryw' });
  }
}

async function migrationRoutes(call: Call, check: ReturnType<typeof recorder>, database: string) {
  const status = (id: string) => call('migrations', 'GET', `/migrations/${id}`);
  const statusIs = (expected: string[]) => (read: Answer) =>
    expected.includes(String(read.body['status']));
  for (let i = 0; i < TRIES * 2; i++) {
    const planned = await check(
      'POST /migrations',
      () =>
        call('migrations', 'POST', '/migrations', {
          database,
          plan: {
            name: `add_c${i}`,
            service: 'accounts',
            versions: { old: ['1.0.0'], new: ['2.0.0'] },
            operations: [
              {
                op: 'addColumn',
                table: 'items',
                column: { name: `c${i}`, type: 'text', nullable: true },
              },
            ],
          },
        }),
      (write) => status(String(write.body['migrationId'])),
      (read, write) =>
        statusIs(['planned'])(read) &&
        write.headers.get('location') === `/migrations/${String(write.body['migrationId'])}`,
    );
    const id = String(planned.body['migrationId']);
    await check(
      'POST /migrations/:id/start',
      () => call('migrations', 'POST', `/migrations/${id}/start`),
      () => status(id),
      (read) => !statusIs(['planned'])(read),
    );
    for (let wait = 0; !statusIs(['migrated'])(await status(id)); wait++) {
      if (wait > 300) throw new Error(`migration ${id} did not migrate`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Even tries roll back, odd ones contract: 50 of each.
    if (i % 2 === 0) {
      await check(
        'POST /migrations/:id/rollback',
        () => retryWhileRunning(() => call('migrations', 'POST', `/migrations/${id}/rollback`)),
        () => status(id),
        statusIs(['rolling-back', 'rolled-back']),
      );
    } else {
      await check(
        'POST /migrations/:id/complete',
        () => retryWhileRunning(() => call('migrations', 'POST', `/migrations/${id}/complete`)),
        () => status(id),
        statusIs(['contracting', 'completed']),
      );
    }
    for (let wait = 0; !statusIs(['rolled-back', 'completed'])(await status(id)); wait++) {
      if (wait > 300) throw new Error(`migration ${id} did not finish`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * A migration reads `migrated` a moment before its background phase lets go of it (409 "already
 * running a phase"): a client retries that answer, as the CLI does.
 */
async function retryWhileRunning(write: () => Promise<Answer>): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await write();
    if (answer.status !== 409 || !/already running a phase/.test(String(answer.body['message'])))
      return answer;
    if (attempt >= 100) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Runs the whole table against running services; returns the tally. */
async function runTable(env: Record<string, string>, token: string, database: string) {
  const tally: Tally = new Map();
  const call = caller(env, token);
  const check = recorder(tally);
  const run = randomUUID().slice(0, 6);
  await Promise.all([
    releaseRoutes(call, check, run),
    flagRoutes(call, check, run),
    migrationRoutes(call, check, database),
  ]);
  const rows = [...tally].map(([route, t]) =>
    [
      route.padEnd(45),
      String(t.tries).padStart(4),
      String(t.misses.length).padStart(6),
      `${percentile(t.writeMs, 50).toFixed(1)}`.padStart(9),
      `${percentile(t.writeMs, 99).toFixed(1)}`.padStart(9),
    ].join(' '),
  );
  console.log(
    `${env['ROLLGATE_MODE'] ?? 'embedded'} mode, write then read at once:\n${'route'.padEnd(45)} ${'tries'.padStart(4)} ${'misses'.padStart(6)} ${'write p50'.padStart(9)} ${'write p99'.padStart(9)} (ms)\n${rows.join('\n')}`,
  );
  return tally;
}

function expectNoMisses(tally: Tally): void {
  expect(tally.size).toBe(20);
  for (const [route, t] of tally) {
    expect({ route, tries: t.tries >= TRIES, misses: t.misses.slice(0, 3) }).toEqual({
      route,
      tries: true,
      misses: [],
    });
  }
}

/** A target database of its own per mode, with a small table the plans add columns to. */
async function targetDatabase(): Promise<{ name: string; drop: () => Promise<void> }> {
  const target = await createTestDatabase('ryw_');
  const client = new Client({ connectionString: target.url });
  await client.connect();
  await client.query('CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL)');
  await client.query(`INSERT INTO items (name) SELECT 'i' || g FROM generate_series(1, 20) g`);
  await client.end();
  return { name: new URL(target.url).pathname.slice(1), drop: target.drop };
}

/** Reads that send a token: the write's own token passes, a bad one is 400, a future one 503. */
async function expectTokensHonoured(orchestrator: string, token: string): Promise<void> {
  const created = await fetch(`${orchestrator}/releases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      service: `tok-${randomUUID().slice(0, 6)}`,
      artifact: { name: 'tok', digest: digest('d') },
      first: true,
    }),
  });
  expect(created.status).toBe(201);
  const consistency = created.headers.get('rollgate-consistency')!;
  expect(consistency).toMatch(/^rollgate\.releases:\d+:\d+$/);
  const read = (header: string) =>
    fetch(`${orchestrator}/releases`, { headers: { 'Rollgate-Consistency': header } });
  expect((await read(consistency)).status).toBe(200);
  const bad = await read('releases; DROP TABLE');
  expect(bad.status).toBe(400);
  expect(JSON.stringify(await bad.json())).toContain('header Rollgate-Consistency');
  const [topic, partition] = consistency.split(':');
  const ahead = await read(`${topic}:${partition}:999999999`);
  expect(ahead.status).toBe(503);
  expect(ahead.headers.get('retry-after')).toBe('1');
}

describe('read-your-writes on every mutating route', () => {
  let target: { name: string; drop: () => Promise<void> };
  let fleet: { url: string; close: () => Promise<void> };

  beforeEach(async () => {
    target = await targetDatabase();
  });

  afterEach(() => target.drop());

  beforeAll(async () => {
    fleet = await emptyFleet();
  });

  afterAll(() => fleet.close());

  /** Both modes: releases are recorded, not driven (this is about the API, not the fleet). */
  const common = (dir: string) => ({
    ROLLGATE_RECONCILER: 'off',
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
  });

  it('production mode: five processes on Kafka and PostgreSQL, 0 misses', async () => {
    const dir = tempDir('ryw-production');
    const prefix = `ryw${randomUUID().slice(0, 6)}_`;
    const env = {
      ...portsEnv(19800),
      ...common(dir),
      ROLLGATE_MODE: 'production',
      ROLLGATE_SCHEMA_PREFIX: prefix,
    };
    const token = issueToken(env.ROLLGATE_TOKENS_FILE, {
      subject: 'ci',
      scopes: ['deploy', 'flags', 'migrate', 'read'],
    });
    // The migrations process asks the empty fleet stand-in, so contract is allowed.
    const procs: Map<string, Proc> = await startServiceProcesses(env, {
      migrations: {
        ROLLGATE_ORCHESTRATOR_URL: fleet.url,
        ROLLGATE_MIGRATION_DATABASES: target.name,
      },
    });
    try {
      expectNoMisses(await runTable(env, token, target.name));
    } finally {
      await Promise.all([...procs.values()].map((p) => stop(p)));
      await dropServiceSchemas(prefix);
    }
  }, 600_000);

  it('embedded mode: one host process on the embedded log and SQLite, 0 misses', async () => {
    const dir = tempDir('ryw-embedded');
    const env = { ...portsEnv(19900), ...common(dir) };
    const token = issueToken(env.ROLLGATE_TOKENS_FILE, {
      subject: 'ci',
      scopes: ['deploy', 'flags', 'migrate', 'read'],
    });
    // The services inside the host ask the empty fleet stand-in as their orchestrator URL; the
    // test reaches the orchestrator itself on its port.
    const host = await startEmbeddedHost({
      ...env,
      ROLLGATE_ORCHESTRATOR_URL: fleet.url,
      ROLLGATE_MIGRATION_DATABASES: target.name,
      ROLLGATE_CONSISTENCY_WAIT_MS: '1500',
    });
    try {
      expectNoMisses(await runTable(env, token, target.name));
      await expectTokensHonoured(env.ROLLGATE_ORCHESTRATOR_URL, token);
    } finally {
      await stop(host);
    }
  }, 600_000);
});
