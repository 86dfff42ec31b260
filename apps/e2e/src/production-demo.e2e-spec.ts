import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import {
  dropServiceSchemas,
  portsEnv,
  ROOT,
  start,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from './support';

const run = promisify(execFile);

/**
 * `ROLLGATE_MODE=production npm start` (`rollgate demo` with npm start's scenario) as a new user
 * meets it: started before a brand-new broker is even up, it waits quietly (one info line, no
 * ERROR), then runs the whole demo to the end.
 */
describe('production mode on a fresh broker', () => {
  const dir = tempDir('fresh-broker');
  // A broker of its own on other ports, with the jars of the shared one.
  const kafkaEnv = {
    KAFKA_HOME: join(dir, 'kafka'),
    KAFKA_PORT: '19392',
    KAFKA_CONTROLLER_PORT: '19393',
  };
  const prefix = `demo${randomUUID().slice(0, 6)}_`;
  let demo: Proc | undefined;

  beforeAll(async () => {
    // The shared broker's jars (fetched if this checkout reuses a broker it did not start).
    await run('bash', [join(ROOT, 'infra/kafka/fetch.sh')]);
    mkdirSync(kafkaEnv.KAFKA_HOME, { recursive: true });
    symlinkSync(join(ROOT, '.kafka/lib'), join(kafkaEnv.KAFKA_HOME, 'lib'));
  });

  afterAll(async () => {
    if (demo) await stop(demo);
    await run('bash', [join(ROOT, 'infra/kafka/stop.sh')], {
      env: { ...process.env, ...kafkaEnv },
    });
    await dropServiceSchemas(prefix);
  });

  it('waits for the broker without an ERROR line, then the demo completes', async () => {
    demo = start(
      'apps/cli/src/main.ts',
      {
        ...portsEnv(19300),
        ROLLGATE_MODE: 'production',
        KAFKA_BROKERS: `127.0.0.1:${kafkaEnv.KAFKA_PORT}`,
        ROLLGATE_SCHEMA_PREFIX: prefix,
        ROLLGATE_DATA_DIR: join(dir, 'data'),
        ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
      },
      ['demo'],
    );
    // The CLI starts first, then the host it runs: under load that takes a while.
    await waitFor(() => demo!.output().includes('waiting for Kafka'), 'the waiting line', 90_000);
    await run('bash', [join(ROOT, 'infra/kafka/start.sh')], {
      env: { ...process.env, ...kafkaEnv, KAFKA_FRESH: '1' },
    });
    await waitFor(
      () => /demo: done|demo stopped/.test(demo!.output()),
      `the demo to finish:\n${demo.output()}`,
      240_000,
    );
    const output = demo.output();
    expect(output).toContain('demo: done');
    expect(output).toMatch(/demo: {3}succeeded — step 3\/3/); // the healthy canary, promoted
    expect(output).toMatch(/demo: {3}rolled-back/); // the bad one, rolled back on its own
    expect(output).toContain('event log     Kafka at 127.0.0.1:19392');
    expect(output).toMatch(/read models {3}PostgreSQL postgres:\/\/.*, schemas demo\w+_<service>/);
    expect(output.match(/waiting for Kafka/g)).toHaveLength(1);
    // The demo stops the host it started once it is done.
    expect(await demo.exited).toBe(0);
    // Nest's and kafkajs's ERROR level (a word like "error-rate" in a reason is fine).
    expect(output.split('\n').filter((line) => /\bERROR\b/.test(line))).toEqual([]);
  }, 360_000);
});
