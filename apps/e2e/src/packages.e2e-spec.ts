import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { issueToken } from '@rollgate/platform';
import {
  api,
  digest,
  dropServiceSchemas,
  healthy,
  portsEnv,
  ROOT,
  startEmbeddedHost,
  stop,
  tempDir,
  waitFor,
  waitForPhase,
  type Proc,
} from './support';

/**
 * The packages other tools install, as they install them: `npm pack` of @rollgate/contracts and
 * @rollgate/flags-sdk, installed with kafkajs and the cloudevents SDK into a fresh project outside
 * the workspace, used from plain Node (CommonJS and ESM) and type-checked against their .d.ts,
 * against a Rollgate in production mode on Kafka. Ports 24501-24505.
 */

const run = promisify(execFile);
const dir = tempDir('packages');
const consumerProject = mkdtempSync(join(tmpdir(), 'rollgate-consumer-'));
const prefix = `e2epkg${randomUUID().slice(0, 6)}_`;
const brokers = process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const env: Record<string, string> & { ROLLGATE_ORCHESTRATOR_URL: string } = {
  ...portsEnv(24500),
  ROLLGATE_MODE: 'production',
  ROLLGATE_SCHEMA_PREFIX: prefix,
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
};
const orchestrator = env.ROLLGATE_ORCHESTRATOR_URL;
const flagsUrl = env['ROLLGATE_FLAGS_URL']!;
const token = issueToken(env.ROLLGATE_TOKENS_FILE, {
  subject: 'e2e',
  scopes: ['deploy', 'flags', 'read'],
});
const workspaceVersion = (name: string) =>
  (
    JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

/** Packs both packages (prepack builds them), then installs the tarballs where no workspace is. */
async function installPackages(): Promise<void> {
  for (const name of ['contracts', 'flags-sdk'])
    await run('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: join(ROOT, 'libs', name),
    });
  const tarballs = readdirSync(dir)
    .filter((file) => file.endsWith('.tgz'))
    .map((file) => join(dir, file));
  expect(tarballs.map((file) => basename(file)).sort()).toEqual([
    'rollgate-contracts-0.1.0.tgz',
    'rollgate-flags-sdk-0.1.0.tgz',
  ]);
  writeFileSync(
    join(consumerProject, 'package.json'),
    JSON.stringify({ name: 'rollgate-consumer', private: true }),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      ...tarballs,
      `kafkajs@${workspaceVersion('kafkajs')}`,
      `cloudevents@${workspaceVersion('cloudevents')}`,
    ],
    { cwd: consumerProject },
  );
  cpSync(join(__dirname, 'packages'), consumerProject, { recursive: true });
}

/** Runs a script of the consumer project with plain Node; its JSON lines, parsed. */
async function runScript(
  script: string,
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<Record<string, unknown>[]> {
  const { stdout } = await run(process.execPath, [script, ...args], {
    cwd: consumerProject,
    env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: brokers, ...extraEnv },
    timeout: 60_000,
  }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`${script}: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  });
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

interface FollowedEvent {
  envelope: {
    id: string;
    type: string;
    version: number;
    occurredAt: string;
    correlationId: string;
    causationId: string | null;
    key: string;
  };
  cloudEvent: Record<string, string | undefined>;
  dataIsTheEnvelope: boolean;
  topic: string;
}

describe('publishable packages, installed from their tarballs outside the workspace', () => {
  let host: Proc | undefined;

  beforeAll(async () => {
    const [started] = await Promise.all([startEmbeddedHost(env), installPackages()]);
    host = started;
    await waitFor(
      async () => (await healthy(orchestrator)) && (await healthy(flagsUrl)),
      `a caught-up Rollgate:\n${host.output().slice(-2000)}`,
    );
  }, 120_000);

  afterAll(async () => {
    if (host) await stop(host);
    await dropServiceSchemas(prefix);
  });

  it('type-checks a TypeScript consumer against the published declarations', async () => {
    writeFileSync(
      join(consumerProject, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        files: ['typed-consumer.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const checked = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: consumerProject,
    }).then(
      () => 'no errors',
      (error: { stdout?: string }) => error.stdout ?? 'failed',
    );
    expect(checked).toBe('no errors');
  });

  it('an external consumer (CommonJS and ESM) follows a release end to end from Kafka, as CloudEvents', async () => {
    const service = `pkg-${randomUUID().slice(0, 6)}`;
    const created = await api(`${orchestrator}/releases`, 'POST', token, {
      service,
      artifact: { name: service, digest: digest('7') },
      version: 'v1',
      strategy: 'canary',
      plan: { replicas: 1 },
      first: true,
    });
    expect(created.status).toBe(201);
    const releaseId = created.body['releaseId'] as string;
    const follow = (script: string) =>
      runScript(script, [releaseId, `external-${script}-${randomUUID().slice(0, 6)}`]);
    const [fromCommonJs, fromEsm] = await Promise.all([
      follow('follow-release.cjs'),
      follow('follow-release.mjs'),
      waitForPhase(orchestrator, releaseId, ['succeeded'], 60_000),
    ]);

    const events = fromCommonJs as unknown as FollowedEvent[];
    const types = events.map((e) => e.envelope.type);
    expect(types[0]).toBe('ReleaseRequested');
    expect(types).toContain('ReleaseStepStarted');
    expect(types.at(-1)).toBe('ReleaseSucceeded');
    for (const { envelope, cloudEvent, dataIsTheEnvelope, topic } of events) {
      expect(topic).toBe('rollgate.releases');
      expect(cloudEvent).toEqual({
        specversion: '1.0',
        id: envelope.id,
        source: `/rollgate/${service}`,
        type: `rollgate.${envelope.type}`,
        time: envelope.occurredAt,
        subject: releaseId,
        dataschema: expect.stringMatching(
          new RegExp(`^urn:rollgate:event:${envelope.type}\\.v\\d+$`),
        ) as unknown as string,
        datacontenttype: 'application/json',
        correlationid: releaseId,
        causationid: envelope.causationId ?? undefined,
      });
      expect(dataIsTheEnvelope).toBe(true);
    }
    // The ESM consumer saw the same events, in the same order.
    expect((fromEsm as unknown as FollowedEvent[]).map((e) => e.envelope.id)).toEqual(
      events.map((e) => e.envelope.id),
    );
  }, 90_000);

  it('the flags SDK (CommonJS and ESM) evaluates a flag against the running flags service', async () => {
    const project = `pkg${randomUUID().slice(0, 6)}`;
    const flag = 'new-checkout';
    const command = async (path: string, method: 'POST' | 'PUT', body: unknown) => {
      const response = await fetch(`${flagsUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      expect([path, response.status < 300]).toEqual([path, true]);
      return (await response.json()) as { rulesetVersion: number };
    };
    await command('/flags/projects', 'POST', { name: project, reason: 'e2e' });
    await command('/flags', 'POST', { key: flag, project, type: 'release', owner: 'e2e' });
    const { rulesetVersion } = await command(
      `/flags/${flag}/environments/production?project=${project}`,
      'PUT',
      {
        enabled: true,
        rules: [{ constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] }],
        defaultServe: false,
        reason: 'e2e: Norway first',
        force: true, // no fleet declares the flag: the enablement guard is not under test here
      },
    );
    const evaluate = (script: string) =>
      runScript(script, [flagsUrl, project, flag], { ROLLGATE_TOKEN: token });
    const answers = await Promise.all([
      evaluate('evaluate-flag.cjs'),
      evaluate('evaluate-flag.mjs'),
    ]);
    for (const [answer] of answers) {
      expect(answer).toMatchObject({
        rulesetVersion: expect.any(Number) as unknown as number,
        norway: true,
        sweden: false,
        details: { flagKey: flag, value: true, stale: false },
        missing: { value: false, errorCode: 'FLAG_NOT_FOUND' },
        engine: true,
      });
      expect(answer!['rulesetVersion']).toBeGreaterThanOrEqual(rulesetVersion);
    }
  }, 60_000);
});
