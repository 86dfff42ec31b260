import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ANALYSIS_PERSISTENCE, ANALYSIS_SERVICE, AnalysisAppModule } from '@rollgate/app-analysis';
import { FileTokenStore, issueToken, parseConfig, setupHttpApp } from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';

const CONFIG = `apiVersion: rollgate/v1
kind: CanaryConfig
name: checkout
metrics:
  - name: errors
    query: { embedded: error-rate }
    direction: increase
    critical: true
    thresholds: { max: 0.02 }
judge: { name: threshold }
`;

describe('rollgate canary-config against a real analysis service', () => {
  let app: INestApplication;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-canary-cli-'));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const tokensFile = tempTokensFile();
  const deployer = issueToken(tokensFile, { subject: 'cli-deployer', scopes: ['deploy', 'read'] });

  beforeAll(async () => {
    const runtime = await openTestRuntime('analysis', ANALYSIS_PERSISTENCE);
    app = await NestFactory.create(
      AnalysisAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, ANALYSIS_SERVICE);
    await app.init();
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', deployer, ...argv], {
      config: parseConfig({ ROLLGATE_ANALYSIS_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  it('applies a file, idempotently, shows it at any moment and lists its history', async () => {
    const yaml = file('checkout.yaml', CONFIG);
    expect(await run('canary-config', 'apply', '-f', yaml)).toMatchObject({
      exitCode: 0,
      stdout: expect.stringContaining('canary config checkout: version 1 applied'),
    });
    expect((await run('canary-config', 'apply', '-f', yaml)).stdout).toContain(
      'unchanged (version 1)',
    );
    const stricter = file('stricter.yaml', CONFIG.replace('max: 0.02', 'max: 0.01'));
    expect((await run('canary-config', 'apply', '-f', stricter)).stdout).toContain('version 2');

    const now = await run('canary-config', 'get', 'checkout');
    expect(now.stdout).toMatch(
      /^# canary config checkout version 2, applied \S+ by user:cli-deployer$/m,
    );
    expect(now.stdout).toContain('max: 0.01');
    const history = await run('canary-config', 'history', 'checkout', '--json');
    const versions = JSON.parse(history.stdout) as { version: number; appliedAt: string }[];
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    const before = new Date(Date.parse(versions[1]!.appliedAt) - 1).toISOString();
    const then = await run('canary-config', 'get', 'checkout', '--at', before);
    expect(then.stdout).toContain('max: 0.02');
    expect((await run('canary-config', 'history', 'checkout')).stdout).toMatch(
      /^2\s+\S+\s+user:cli-deployer\s+threshold\s+errors$/m,
    );
  });

  it('prints each refusal with its path and exits 1; a file without a name needs --name', async () => {
    const bad = file(
      'bad.json',
      JSON.stringify({
        apiVersion: 'rollgate/v1',
        kind: 'CanaryConfig',
        metrics: [{ name: 'x', query: { prometheus: 'up{a="${nope}"}' }, direction: 'up' }],
      }),
    );
    const refused = await run('canary-config', 'apply', '-f', bad, '--name', 'search');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('metrics[0].query.prometheus: unknown placeholder ${nope}');
    expect(refused.stderr).toContain('metrics[0].direction: must be one of');
    const unnamed = await run('canary-config', 'apply', '-f', bad);
    expect(unnamed).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('give --name') });
    expect((await run('canary-config', 'get', 'search')).exitCode).toBe(1);
  });
});
