import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { issueToken } from '@rollgate/platform';
import {
  api,
  digest,
  dropServiceSchemas,
  healthy,
  portsEnv,
  releaseTimeline,
  start,
  startServiceProcesses,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from './support';

const dir = tempDir('scale-out');
const prefix = `e2eown${randomUUID().slice(0, 6)}_`;
const base = 26500;
const env = {
  ...portsEnv(base),
  ROLLGATE_MODE: 'production',
  ROLLGATE_SCHEMA_PREFIX: prefix,
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  // Instances in memory (scale tests only): what is tested here is who drives which service.
  ROLLGATE_FLEET: 'simulated',
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'ci', scopes: ['deploy'] });
const services = Array.from({ length: 20 }, (_, i) => `own-${i}`);
const OWNERS = `${prefix}orchestrator-owners-releases`;

/** Another orchestrator replica of the same installation (same database, same Kafka groups). */
function replica(port: number): { proc: Proc; url: string } {
  const proc = start('apps/orchestrator/src/main.ts', {
    ...env,
    ROLLGATE_ORCHESTRATOR_PORT: String(port),
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** How many release partitions a replica drives now, as its /health says (undefined: down). */
async function owned(url: string): Promise<number | undefined> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).catch(
    () => undefined,
  );
  const body = (await response?.json().catch(() => undefined)) as
    { details?: { 'event-log'?: { ownership?: Record<string, string[]> } } } | undefined;
  return body?.details?.['event-log']?.ownership?.[OWNERS]?.length;
}

async function releaseAll(build: string, plan: object, first = false): Promise<string[]> {
  return Promise.all(
    services.map(async (service) => {
      const created = await api(`${orchestrator}/releases`, 'POST', token, {
        service,
        artifact: { name: service, digest: digest(build) },
        version: `v-${build}`,
        strategy: 'blue-green',
        plan: { replicas: 1, ...plan },
        first,
      });
      expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });
      return created.body['releaseId'] as string;
    }),
  );
}

async function phases(ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map(
      async (id) =>
        (await api(`${orchestrator}/releases/${id}`, 'GET', token)).body['phase'] as string,
    ),
  );
}

/** Each release started each of its steps once, in order, and succeeded once. */
async function eachStepOnce(ids: string[]): Promise<void> {
  for (const id of ids) {
    const timeline = await releaseTimeline(orchestrator, token, id);
    const steps = timeline
      .filter((e) => e.type === 'ReleaseStepStarted')
      .map((e) => e.details['step'] as number);
    expect({ id, steps }).toEqual({ id, steps: steps.map((_, i) => i) });
    expect(timeline.filter((e) => e.type === 'ReleaseSucceeded')).toHaveLength(1);
  }
}

describe('scale out: orchestrator replicas share the services by Kafka partition', () => {
  let procs = new Map<string, Proc>();
  const replicas: Proc[] = [];
  const output = () =>
    [...procs, ...replicas.map((p, i) => [`replica ${i + 2}`, p] as const)]
      .map(([name, p]) => `--- ${name}\n${p.output().slice(-2000)}`)
      .join('\n');

  /** waitFor, with the processes' output in the error. */
  const until = (check: () => Promise<boolean> | boolean, what: string, timeoutMs: number) =>
    waitFor(check, what, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });

  async function allSucceeded(ids: string[], what: string, timeoutMs = 150_000): Promise<void> {
    await waitFor(
      async () => (await phases(ids)).every((p) => p === 'succeeded'),
      what,
      timeoutMs,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(await phases(ids))}\n${output()}`);
    });
  }

  beforeAll(async () => {
    procs = await startServiceProcesses(env);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...procs.values(), ...replicas].map((p) => stop(p)));
    await dropServiceSchemas(prefix);
  }, 120_000);

  it('a killed replica’s services move to the other, which finishes their releases with no step twice', async () => {
    const second = replica(base + 10);
    replicas.push(second.proc);
    await waitFor(() => healthy(second.url), 'the second replica', 60_000);
    const split = async () => [(await owned(orchestrator)) ?? 0, (await owned(second.url)) ?? 0];
    await until(
      async () => (await split()).every((n) => n > 0),
      'both replicas to own part of the services',
      30_000,
    );
    expect((await split()).reduce((a, b) => a + b)).toBe(6);
    await allSucceeded(await releaseAll('a', {}, true), 'the first releases');

    // Blue-green keeps blue warm for a while: the releases are mid-step when a replica dies.
    const ids = await releaseAll('b', { warmSeconds: 6 });
    await waitFor(
      async () => (await phases(ids)).every((p) => p === 'progressing'),
      'every release to progress',
      60_000,
    );
    await stop(second.proc, 'SIGKILL');
    // The survivor is assigned every partition once the dead member's session times out.
    await until(
      async () => (await owned(orchestrator)) === 6,
      'the survivor to own every service',
      40_000,
    );
    await allSucceeded(ids, 'every release, finished by the survivor');
    await eachStepOnce(ids);
  }, 300_000);

  it('a rebalance in the middle of a step neither loses nor repeats it', async () => {
    const ids = await releaseAll('c', { warmSeconds: 4 });
    await waitFor(
      async () => (await phases(ids)).every((p) => p === 'progressing'),
      'every release to progress',
      60_000,
    );
    const third = replica(base + 11);
    replicas.push(third.proc);
    await until(
      async () => ((await owned(third.url)) ?? 0) > 0 && ((await owned(orchestrator)) ?? 6) < 6,
      'the new replica to take part of the services',
      40_000,
    );
    await allSucceeded(ids, 'every release, across the rebalance');
    await eachStepOnce(ids);
  }, 300_000);
});
