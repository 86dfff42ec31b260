import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
  OrchestratorAppModule,
} from '@rollgate/app-orchestrator';
import {
  FileTokenStore,
  issueToken,
  parseConfig,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';

const policy = (stepSeconds: number, extra = '', service = 'checkout') => `apiVersion: rollgate/v1
kind: ServicePolicy
service: ${service}
owners: [team-payments@example.com]
release:
  strategy: canary
  plan: { steps: [5, 25, 50], stepSeconds: ${stepSeconds} }
flags: { expiredBlock: true }
${extra}`;

describe('rollgate apply and diff against a real orchestrator (embedded log)', () => {
  let app: INestApplication;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-policy-cli-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const tokensFile = tempTokensFile();
  const deployer = issueToken(tokensFile, { subject: 'cli-deployer', scopes: ['deploy', 'read'] });
  const admin = issueToken(tokensFile, { subject: 'platform', scopes: ['admin'] });

  beforeAll(async () => {
    const runtime = await openTestRuntime('orchestrator', ORCHESTRATOR_PERSISTENCE, {
      ROLLGATE_RECONCILER: 'off',
    });
    app = await NestFactory.create(
      OrchestratorAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, ORCHESTRATOR_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  async function run(token: string, ...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', token, ...argv], {
      config: parseConfig({ ROLLGATE_ORCHESTRATOR_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  it('applies a file idempotently; diff shows what would change and exits 1, else 0', async () => {
    const yaml = file('rollgate.yaml', policy(120));
    const first = await run(deployer, 'apply', '-f', yaml);
    expect(first).toMatchObject({ exitCode: 0, stderr: '' });
    expect(first.stdout).toContain('policy checkout: version 1 applied');
    expect(first.stdout).toContain(
      '  + release: {"strategy":"canary","plan":{"steps":[5,25,50],"stepSeconds":120}}\n',
    );

    expect(await run(deployer, 'apply', '-f', yaml)).toMatchObject({
      exitCode: 0,
      stdout: 'policy checkout: unchanged (version 1)\n',
    });
    expect(await run(deployer, 'diff', '-f', yaml)).toMatchObject({
      exitCode: 0,
      stdout: 'policy checkout: no changes (version 1)\n',
    });

    // The same policy as JSON, one value changed.
    const json = file(
      'rollgate.json',
      JSON.stringify({
        apiVersion: 'rollgate/v1',
        kind: 'ServicePolicy',
        service: 'checkout',
        owners: ['team-payments@example.com'],
        release: { strategy: 'canary', plan: { steps: [5, 25, 50], stepSeconds: 30 } },
        flags: { expiredBlock: true },
      }),
    );
    expect(await run(deployer, 'diff', '-f', json)).toEqual({
      exitCode: 1,
      stdout:
        'policy checkout: version 2 would be applied\n  ~ release.plan.stepSeconds: 120 → 30\n',
      stderr: '',
    });
    // diff stored nothing: the same diff again, and apply then makes version 2.
    expect((await run(deployer, 'diff', '-f', json)).exitCode).toBe(1);
    const applied = await run(deployer, 'apply', '-f', json, '--json');
    expect(JSON.parse(applied.stdout)).toMatchObject({ version: 2, changed: true });
    expect((await run(deployer, 'diff', '-f', json)).exitCode).toBe(0);
  });

  it('names the path of each problem; diff exits 2 when it cannot compare', async () => {
    const bad = file('bad.yaml', policy(120).replace('[5, 25, 50]', '[5, 60]'));
    const applied = await run(deployer, 'apply', '-f', bad);
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toContain('release.plan.steps[1]: must be at most 50');
    expect((await run(deployer, 'diff', '-f', bad)).exitCode).toBe(2);
    expect((await run(deployer, 'diff', '-f', join(dir, 'missing.yaml'))).exitCode).toBe(2);
    const nameless = file('nameless.yaml', 'apiVersion: rollgate/v1\n');
    expect(await run(deployer, 'apply', '-f', nameless)).toMatchObject({
      exitCode: 2,
      stderr: 'error: give --service, or set service in nameless.yaml\n',
    });
  });

  it('subscribes notification targets that have a secret file, once', async () => {
    file('hook.secret', 'a-signing-secret-of-enough-length\n');
    const targets = `notifications:
  - url: https://hooks.example.com/checkout
    types: ['Release*']
    secretFile: hook.secret
  - url: https://hooks.example.com/no-secret
    types: ['ReleaseRolledBack']
`;
    const yaml = file('notify.yaml', policy(45, targets, 'orders'));
    const first = await run(admin, 'apply', '-f', yaml);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatch(/notifications\[0\]: subscription \S+ created/);
    expect(first.stderr).toContain('notifications[1]: no secretFile, no subscription created');
    const again = await run(admin, 'apply', '-f', yaml);
    expect(again.stdout).toBe('policy orders: unchanged (version 1)\n');
    const listed = await run(admin, 'subscriptions', 'list', '--json');
    const subscriptions = JSON.parse(listed.stdout) as { url: string; service: string }[];
    expect(
      subscriptions.filter((s) => s.url === 'https://hooks.example.com/checkout'),
    ).toHaveLength(1);
    // Without the admin scope the policy is applied, the subscription is not, and the exit says so.
    const deployerRun = await run(
      deployer,
      'apply',
      '-f',
      file('n2.yaml', policy(50, targets, 'orders')),
    );
    expect(deployerRun.exitCode).toBe(1);
    expect(deployerRun.stdout).toContain('policy orders: version 2 applied');
    expect(deployerRun.stderr).toContain('subscriptions need the admin scope');
  });
});
