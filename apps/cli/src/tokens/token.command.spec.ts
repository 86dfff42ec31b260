import { statSync } from 'node:fs';
import { FileTokenStore, parseConfig } from '@rollgate/platform';
import { tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';

describe('rollgate token', () => {
  const tokensFile = tempTokensFile();
  const config = parseConfig({ ROLLGATE_TOKENS_FILE: tokensFile });

  async function run(argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(argv, {
      config,
      output: { out: (text) => (stdout += text), err: (text) => (stderr += text) },
    });
    return { exitCode, stdout, stderr };
  }

  it('rotates a token: issue a new one, list both without secrets, revoke the old one', async () => {
    const issue = (subject: string) =>
      run([
        'token',
        'issue',
        '--subject',
        subject,
        '--scopes',
        'deploy,read',
        '--services',
        'checkout',
        '--json',
      ]);
    const old = JSON.parse((await issue('ci')).stdout) as { token: string; id: string };
    const fresh = JSON.parse((await issue('ci')).stdout) as { token: string; id: string };
    expect(old.token).toMatch(/^rg_/);
    expect(statSync(tokensFile).mode & 0o777).toBe(0o600);

    const listed = await run(['token', 'list']);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+SUBJECT\s+SCOPES\s+SERVICES$/);
    expect(listed.stdout).toContain(`${old.id}  ci       deploy,read  checkout`);
    expect(listed.stdout).not.toContain(old.token);

    const store = new FileTokenStore(tokensFile);
    expect(await store.findByToken(old.token)).toBeDefined();
    const revoked = await run(['token', 'revoke', old.id]);
    expect([revoked.exitCode, revoked.stdout]).toEqual([0, `revoked ${old.id} (ci)\n`]);
    expect(await store.findByToken(old.token)).toBeUndefined();
    expect(await store.findByToken(fresh.token)).toEqual({
      subject: 'ci',
      scopes: ['deploy', 'read'],
      services: ['checkout'],
    });
  });

  it('refuses unknown scopes, unknown ids and ids too short to be unique', async () => {
    const scope = await run(['token', 'issue', '--subject', 'x', '--scopes', 'root']);
    expect(scope.exitCode).toBe(1);
    expect(scope.stderr).toContain(
      'expected scopes from read, deploy, flags, migrate, ingest, admin',
    );
    const unknown = await run(['token', 'revoke', 'deadbeefdead']);
    expect([unknown.exitCode, unknown.stderr]).toEqual([
      1,
      `error: no token with id deadbeefdead in ${tokensFile}\n`,
    ]);
    expect((await run(['token', 'revoke', 'abc'])).stderr).toContain('8 to 64 hex characters');
  });
});
