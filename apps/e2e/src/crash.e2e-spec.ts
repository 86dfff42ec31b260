import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddedEventLog, type LoggedEvent } from '@rollgate/event-log';
import { TOPICS } from '@rollgate/contracts';
import {
  api,
  portsEnv,
  releaseView,
  start,
  stop,
  tempDir,
  traffic,
  waitFor,
  type Proc,
} from './support';

const dir = tempDir('crash');
const build = (c: string) => `sha256:${c.repeat(64)}`;
const env = {
  ...portsEnv(19200),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;

describe('kill -9 in the middle of a canary', () => {
  let host: Proc | undefined;
  let users: ReturnType<typeof traffic> | undefined;
  afterAll(async () => {
    await users?.stop();
    if (host) await stop(host);
  });
  const router = (env as Record<string, string>)['ROLLGATE_ROUTER_URL']!;
  /** Users keep calling the service through the proxy (its port changes with each process life). */
  const startUsers = async () => {
    await users?.stop();
    let port = 0;
    await waitFor(async () => {
      const route = await api(`${router}/routes/payments`, 'GET', undefined);
      port = (route.body['endpoint'] as { port?: number } | undefined)?.port ?? 0;
      return route.status === 200 && port > 0;
    }, 'route of payments');
    users = traffic(port, 100);
  };

  const boot = async () => {
    const proc = start('apps/embedded/src/main.ts', env);
    await waitFor(() => proc.output().includes('Rollgate is running'), `start:\n${proc.output()}`);
    return proc;
  };
  const view = (id: string) => releaseView(orchestrator, id);

  it('rebuilds from the log on restart and finishes the release with no step done twice', async () => {
    host = await boot();
    const token = readFileSync(join(dir, 'admin.token'), 'utf8').trim();
    const deploy = async (digest: string, version: string, first = false) =>
      (
        await api(`${orchestrator}/releases`, 'POST', token, {
          service: 'payments',
          artifact: { name: 'payments', digest },
          version,
          plan: { replicas: 2, canarySteps: [20, 50], stepSeconds: 6 },
          first,
        })
      ).body['releaseId'] as string;
    const first = await deploy(build('8'), 'v1', true);
    await waitFor(
      async () => (await view(first))['phase'] === 'succeeded',
      'first release',
      60_000,
    );
    await startUsers();
    const canary = await deploy(build('9'), 'v2');
    await waitFor(
      async () => Number((await view(canary))['step']) >= 1,
      'second canary step',
      90_000,
    );

    await stop(host, 'SIGKILL');
    host = await boot();
    await startUsers();
    await waitFor(
      async () => (await view(canary))['phase'] !== 'progressing',
      'release to finish after restart',
      120_000,
    );
    expect(await view(canary)).toMatchObject({ phase: 'succeeded', version: 'v2' });
    await users?.stop();
    users = undefined;
    await stop(host);
    host = undefined;

    const log = new EmbeddedEventLog({ file: join(dir, 'data', 'events.db') });
    const events: LoggedEvent[] = [];
    for await (const e of log.readRange({ topic: TOPICS.releases.name })) events.push(e);
    await log.close();
    const steps = events
      .filter((e) => e.event.correlationId === canary && e.event.type === 'ReleaseStepStarted')
      .map((e) => (e.event.data as { step: number }).step);
    expect(steps).toEqual([0, 1, 2]);
    const completed = events.filter(
      (e) => e.event.correlationId === canary && e.event.type === 'ReleaseStepCompleted',
    );
    expect(completed.map((e) => (e.event.data as { step: number }).step)).toEqual([0, 1, 2]);
  }, 300_000);
});
