import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  OrchestratorAppModule,
  ORCHESTRATOR_PERSISTENCE,
  ORCHESTRATOR_SERVICE,
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

const digest = `sha256:${'d'.repeat(64)}`;
const ROOT = resolve(__dirname, '../../../..');

describe('rollgate release commands against a real orchestrator', () => {
  let app: INestApplication;
  let url: string;
  const tokensFile = tempTokensFile();
  const token = issueToken(tokensFile, { subject: 'cli-user', scopes: ['deploy'] });

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

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', token, ...argv], {
      config: parseConfig({ ROLLGATE_ORCHESTRATOR_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  async function shown(id: string, phase: string) {
    for (let i = 0; i < 100; i++) {
      const result = await run('release', id);
      if (result.stdout.includes(`phase   ${phase}`)) return result.stdout;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`release ${id} never reached ${phase}`);
  }

  it('deploys, shows progress, pauses, resumes and aborts', async () => {
    const deployed = await run(
      'deploy',
      '-s',
      'checkout',
      '-a',
      `checkout@${digest}`,
      '--steps',
      '10,30',
      '--first',
      '--json',
    );
    expect(deployed.stderr).toBe('');
    expect(deployed.exitCode).toBe(0);
    const { releaseId } = JSON.parse(deployed.stdout) as { releaseId: string };
    const view = await shown(releaseId, 'progressing');
    const status = await run('status');
    expect(status.stdout).toMatch(/^orchestrator\s+\S+\s+up/m);
    expect(status.stdout).toMatch(
      new RegExp(
        `^checkout\\s+\\S+\\s+canary\\s+progressing\\s+\\[\\.{10}\\] 0/1\\s+canary 100%\\s+${releaseId}$`,
        'm',
      ),
    );
    expect(status.exitCode).toBe(1); // the other four services are not running here
    // The service has no stable version yet: its first release deploys in one step.
    expect(view).toContain('first deploy');
    expect(view).toContain('0/1 steps');
    expect((await run('pause', releaseId, '-r', 'freeze')).stdout).toBe('pause: ok\n');
    expect(await shown(releaseId, 'paused')).toContain('reason  freeze');
    expect((await run('resume', releaseId)).exitCode).toBe(0);
    await shown(releaseId, 'progressing');
    const watching = run('release', releaseId, '--watch');
    await new Promise((r) => setTimeout(r, 300));
    expect((await run('abort', releaseId, '-r', 'not today')).exitCode).toBe(0);
    expect(await shown(releaseId, 'aborted')).toContain('aborted by user:cli-user: not today');
    // --watch printed the release live until it ended, and fails a pipeline that waits on it.
    const watched = await watching;
    expect(watched.exitCode).toBe(1);
    expect(watched.stdout.indexOf('phase   progressing')).toBeGreaterThanOrEqual(0);
    expect(watched.stdout.indexOf('phase   aborted')).toBeGreaterThan(
      watched.stdout.indexOf('phase   progressing'),
    );
    const list = await run('release', '-s', 'checkout');
    expect(list.stdout).toMatch(
      new RegExp(`${releaseId}\\s+checkout\\s+\\S+\\s+canary\\s+aborted`),
    );
  });

  it('deploys a build that declares the flags it reads', async () => {
    const deployed = await run(
      'deploy',
      '-s',
      'cart',
      '-a',
      `cart@${digest}`,
      '--flags',
      'new-cart, new-pricing',
      '--first',
      '--json',
    );
    expect(deployed.exitCode).toBe(0);
    const { releaseId } = JSON.parse(deployed.stdout) as { releaseId: string };
    let shownRelease: { artifact?: { flags?: string[] } } = {};
    for (let i = 0; i < 100 && !shownRelease.artifact; i++) {
      const result = await run('release', releaseId, '--json');
      if (result.exitCode === 0) shownRelease = JSON.parse(result.stdout) as typeof shownRelease;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(shownRelease.artifact?.flags).toEqual(['new-cart', 'new-pricing']);
    await run('abort', releaseId, '-r', 'test over');
  });

  it('status --watch redraws the table until interrupted', async () => {
    const cli = spawn(
      process.execPath,
      [join(ROOT, 'bin/run.js'), 'apps/cli/src/main.ts', 'status', '--watch', '0.2'],
      {
        cwd: ROOT,
        env: { ...process.env, ROLLGATE_ORCHESTRATOR_URL: url },
      },
    );
    let output = '';
    cli.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) => cli.on('exit', resolve));
    try {
      for (let i = 0; i < 200 && (output.match(/^SERVICE /gm) ?? []).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((output.match(/^SERVICE /gm) ?? []).length).toBeGreaterThanOrEqual(2);
      expect(output).toMatch(/^\d{4}-\d\d-\d\dT/m);
    } finally {
      cli.kill('SIGINT');
      await exited;
    }
  }, 60_000);

  it('refuses a tag before calling the API, and reports API refusals field by field', async () => {
    const tag = await run('deploy', '-s', 'checkout', '-a', 'checkout:latest');
    expect(tag.exitCode).not.toBe(0);
    expect(tag.stderr).toContain('a digest, not a tag such as :latest');
    const badSteps = await run(
      'deploy',
      '-s',
      'checkout',
      '-a',
      `checkout@${digest}`,
      '--steps',
      '60',
    );
    expect(badSteps.exitCode).toBe(1);
    expect(badSteps.stderr).toContain('error (400): validation failed');
    expect(badSteps.stderr).toContain('plan.canarySteps[0]: must be at most 50');
    const unknown = await run('pause', 'nope', '-r', 'x');
    expect(unknown.stderr).toContain('error (404): release nope not found');
  });
});
