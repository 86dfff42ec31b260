import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedEventLog, type LoggedEvent } from '@rollgate/event-log';
import { TOPICS } from '@rollgate/contracts';
import {
  api,
  cli,
  digest,
  healthy,
  portsEnv,
  start,
  stop,
  tempDir,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

const dir = tempDir('embedded');
const env = {
  ...portsEnv(17000),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  // This test is about the host and its storage; releases stay where the API puts them.
  ROLLGATE_RECONCILER: 'off',
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;

async function startEmbedded(): Promise<Proc> {
  const proc = start('apps/embedded/src/main.ts', env);
  await waitFor(
    () => proc.output().includes('Rollgate is running'),
    `embedded start:\n${proc.output()}`,
  );
  return proc;
}

describe('embedded mode (npm start)', () => {
  let host: Proc | undefined;
  afterAll(async () => host && stop(host));

  it('runs the five services in one process with no server, and loses no event across a restart', async () => {
    host = await startEmbedded();
    expect(host.output()).toMatch(/Admin token \(new\): .*admin\.token/);
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();

    const status = await cli(['status'], env);
    expect(status.code).toBe(0);
    for (const service of ['orchestrator', 'router', 'analysis', 'flags', 'migrations']) {
      expect(status.output).toMatch(new RegExp(`${service}\\s+http://127\\.0\\.0\\.1:\\d+\\s+up`));
    }

    const created = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'checkout',
      artifact: { name: 'checkout', digest: digest('e') },
      strategy: 'canary',
      first: true,
    });
    expect(created.status).toBe(201);
    const releaseId = created.body['releaseId'] as string;
    await waitFor(
      async () =>
        (await api(`${orchestrator}/releases/${releaseId}`, 'GET', undefined)).status === 200,
      'projection',
    );

    expect(await stop(host)).toBe(0);
    host = await startEmbedded();
    expect(host.output()).not.toContain('Admin token (new)');

    const after = await api(`${orchestrator}/releases/${releaseId}`, 'GET', undefined);
    expect(after.body).toMatchObject({
      id: releaseId,
      phase: 'progressing',
      requestedBy: 'user:local-admin',
    });
    const again = await api(`${orchestrator}/releases`, 'POST', token, {
      service: 'checkout',
      artifact: { name: 'checkout', digest: digest('f') },
    });
    expect(again.status).toBe(409);
    const aborted = await api(`${orchestrator}/releases/${releaseId}/abort`, 'POST', token, {
      reason: 'e2e',
    });
    expect(aborted.status).toBe(200);
    await waitForPhase(orchestrator, releaseId, ['aborted']);
    expect(await stop(host)).toBe(0);
    host = undefined;

    const log = new EmbeddedEventLog({ file: join(dir, 'data', 'events.db') });
    const events: LoggedEvent[] = [];
    for await (const e of log.readRange({ topic: TOPICS.releases.name })) events.push(e);
    await log.close();
    expect(events.map((e) => [e.event.type, e.event.sequence])).toEqual([
      ['ReleaseRequested', 1],
      ['ReleaseAborted', 2],
      ['ReleaseRolledBack', 3],
    ]);
  });

  it('answers a bad environment with the list of problems, not a stack trace', async () => {
    const bad = start('apps/embedded/src/main.ts', {
      ...env,
      ROLLGATE_MODE: 'cloud',
      ROLLGATE_ORCHESTRATOR_PORT: 'x',
    });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toContain(
      "ROLLGATE_MODE: must be one of embedded, production, got 'cloud'",
    );
    expect(bad.output()).toContain('ROLLGATE_ORCHESTRATOR_PORT');
    expect(bad.output()).not.toMatch(/\n\s+at /);
  });

  it('tells rollgate status which services are down', async () => {
    if (host) await stop(host);
    host = undefined;
    const status = await cli(['status'], env);
    expect(status.code).toBe(1);
    expect(status.output).toMatch(/orchestrator\s+\S+\s+unreachable/);
    expect(await healthy(orchestrator).catch(() => false)).toBe(false);
  });
});
