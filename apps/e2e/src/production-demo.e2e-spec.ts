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
 * `ROLLGATE_MODE=production npm start` as a new user meets it: started before a brand-new broker
 * is even up, it waits quietly (one info line, no ERROR), then runs the whole demo to the end.
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
  let host: Proc | undefined;

  beforeAll(async () => {
    // The shared broker's jars (fetched if this checkout reuses a broker it did not start).
    await run('bash', [join(ROOT, 'infra/kafka/fetch.sh')]);
    mkdirSync(kafkaEnv.KAFKA_HOME, { recursive: true });
    symlinkSync(join(ROOT, '.kafka/lib'), join(kafkaEnv.KAFKA_HOME, 'lib'));
  });

  afterAll(async () => {
    if (host) await stop(host);
    await run('bash', [join(ROOT, 'infra/kafka/stop.sh')], {
      env: { ...process.env, ...kafkaEnv },
    });
    await dropServiceSchemas(prefix);
  });

  it('waits for the broker without an ERROR line, then the demo completes', async () => {
    host = start(
      'apps/embedded/src/main.ts',
      {
        ...portsEnv(19300),
        ROLLGATE_MODE: 'production',
        KAFKA_BROKERS: `127.0.0.1:${kafkaEnv.KAFKA_PORT}`,
        ROLLGATE_SCHEMA_PREFIX: prefix,
        ROLLGATE_DATA_DIR: join(dir, 'data'),
        ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
      },
      ['--demo'],
    );
    await waitFor(() => host!.output().includes('waiting for Kafka'), 'the waiting line', 30_000);
    await run('bash', [join(ROOT, 'infra/kafka/start.sh')], {
      env: { ...process.env, ...kafkaEnv, KAFKA_FRESH: '1' },
    });
    await waitFor(
      () => /demo: done|demo stopped/.test(host!.output()),
      `the demo to finish:\n${host.output()}`,
      240_000,
    );
    const output = host.output();
    expect(output).toContain('demo: done');
    expect(output).toMatch(/demo: {3}succeeded — step 3\/3/); // the healthy canary, promoted
    expect(output).toMatch(/demo: {3}rolled-back/); // the bad one, rolled back on its own
    expect(output).toContain('event log     Kafka at 127.0.0.1:19392');
    expect(output).toMatch(/read models {3}PostgreSQL postgres:\/\/.*, schemas demo\w+_<service>/);
    expect(output.match(/waiting for Kafka/g)).toHaveLength(1);
    // Nest's and kafkajs's ERROR level (a word like "error-rate" in a reason is fine).
    expect(output.split('\n').filter((line) => /\bERROR\b/.test(line))).toEqual([]);
  }, 360_000);
});
