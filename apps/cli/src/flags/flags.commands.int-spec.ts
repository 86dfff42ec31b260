import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FlagsAppModule, FLAGS_PERSISTENCE, FLAGS_SERVICE } from '@rollgate/app-flags';
import {
  FileTokenStore,
  issueToken,
  parseConfig,
  setupHttpApp,
  startEventLogTransport,
} from '@rollgate/platform';
import { openTestRuntime, tempTokensFile } from '@rollgate/platform/testing';
import { runCli } from '../program';
import { closedPortUrl } from '../testing/service-fixtures';

describe('rollgate flags commands against a real flags service', () => {
  let app: INestApplication;
  let url: string;
  const tokensFile = tempTokensFile();
  const token = issueToken(tokensFile, { subject: 'cli-user', scopes: ['flags', 'read'] });

  beforeAll(async () => {
    // No orchestrator listens there: the enablement guard cannot see the fleet and fails safe.
    const orchestrator = await closedPortUrl();
    const runtime = await openTestRuntime('flags', FLAGS_PERSISTENCE, {
      ROLLGATE_ORCHESTRATOR_URL: orchestrator,
    });
    app = await NestFactory.create(
      FlagsAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
      { logger: false },
    );
    setupHttpApp(app, FLAGS_SERVICE);
    await app.init();
    await startEventLogTransport(app, runtime);
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  async function run(...argv: string[]) {
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(['--token', token, 'flags', ...argv], {
      config: parseConfig({ ROLLGATE_FLAGS_URL: url }),
      output: { out: (t) => (stdout += t), err: (t) => (stderr += t) },
    });
    return { exitCode, stdout, stderr };
  }

  it('creates, updates, turns on (forced past an unknown fleet), evaluates with the reason, and kills', async () => {
    const created = await run('create', 'new-cart', '-t', 'release', '-o', 'team-cart');
    expect(created).toMatchObject({ exitCode: 0 });
    expect(created.stdout).toBe('created default/new-cart (ruleset version 1)\n');

    const rules = JSON.stringify({
      enabled: false,
      rules: [
        { id: 'nordics', constraints: [{ attribute: 'country', operator: 'IN', values: ['NO'] }] },
      ],
    });
    expect((await run('update', 'new-cart', '-e', 'production', '--config', rules)).exitCode).toBe(
      0,
    );

    const refused = await run('update', 'new-cart', '-e', 'production', '--on');
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('error (409)');
    expect(refused.stderr).toContain('the fleet cannot be checked');
    const forced = await run(
      'update',
      'new-cart',
      '-e',
      'production',
      '--on',
      '--force',
      '-r',
      'fleet view down, launch approved in CHG-7',
    );
    expect(forced.exitCode).toBe(0);

    const hit = await run('eval', 'new-cart', '-e', 'production', '--context', '{"country":"NO"}');
    expect(hit.exitCode).toBe(0);
    expect(hit.stdout).toMatch(
      /^new-cart: on\n {2}why: RULE_MATCH: Rule 0 \("nordics"\) matched: country IN/,
    );
    expect(hit.stdout).toContain('ruleset version: 3');
    const miss = await run('eval', 'new-cart', '-e', 'production', '--context', '{"country":"SE"}');
    expect(miss.stdout).toMatch(/^new-cart: off\n {2}why: DEFAULT/);

    expect((await run('rollout', 'new-cart', '25', '-e', 'staging')).stdout).toBe(
      'rollout 25% for default/new-cart (ruleset version 4)\n',
    );
    const killed = await run('kill', 'new-cart', '-e', 'production', '-r', 'orders failing');
    expect(killed.stdout).toBe('killed default/new-cart (ruleset version 5)\n');
    const off = await run('eval', 'new-cart', '-e', 'production', '--context', '{"country":"NO"}');
    expect(off.stdout).toMatch(/^new-cart: off\n {2}why: OFF/);
    // Replay: what the same user got before the kill, and before the flag was turned on.
    const before = ['eval', 'new-cart', '-e', 'production', '--context', '{"country":"NO"}'];
    const atFour = await run(...before, '--ruleset-version', '4');
    expect(atFour.stdout).toMatch(/^new-cart: on\n[^]*ruleset version: 4\n$/);
    const atTwo = await run(...before, '--ruleset-version', '2');
    expect(atTwo.stdout).toMatch(/^new-cart: off\n {2}why: OFF[^]*ruleset version: 2\n$/);
    const atStart = await run(...before, '--at', '2000-01-01T00:00:00Z');
    expect(atStart.stdout).toMatch(/^new-cart: off\n {2}why: FLAG_NOT_FOUND/);
    const badInstant = await run(...before, '--at', 'yesterday');
    expect(badInstant.exitCode).toBe(1);
    expect(badInstant.stderr).toContain('at: must be an ISO 8601 date-time');
  });

  it('names the field of an invalid rule, refuses a retired name and lists flags', async () => {
    await run('create', 'promo', '-t', 'experiment', '-o', 'growth');
    const bad = await run(
      'update',
      'promo',
      '-e',
      'staging',
      '--config',
      '{"enabled":true,"rules":[{"constraints":[{"attribute":"v","operator":"SEMVER_GT","values":["2.0"]}]}]}',
    );
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain(
      'rules[0].constraints[0].values[0]: "2.0" is not a semantic version',
    );
    expect((await run('eval', 'promo', '--context', 'not json')).exitCode).not.toBe(0);

    let listed = '';
    for (let i = 0; i < 100 && !listed.includes('promo'); i++) {
      listed = (await run('list')).stdout;
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(listed).toMatch(/^FLAG\s+TYPE\s+OWNER\s+ON IN\s+EXPIRES\n/);
    expect(listed).toMatch(/promo\s+experiment\s+growth\s+-\s+\d{4}-/);

    expect((await run('retire', 'promo', '-r', 'experiment over')).exitCode).toBe(0);
    const reused = await run('create', 'promo', '-t', 'experiment', '-o', 'growth');
    expect(reused.exitCode).toBe(1);
    expect(reused.stderr).toContain('error (409)');
    expect(reused.stderr).toContain('can never be reused');
    expect((await run('stale')).stdout).toBe('no stale flags\n');
    const segment = await run(
      'segment',
      'staff',
      '--constraints',
      '[{"attribute":"email","operator":"STR_ENDS_WITH","values":["@example.com"]}]',
    );
    expect(segment.stdout).toMatch(/^segment defined: default\/staff \(ruleset version \d+\)\n$/);
  });
  it('starts a guarded rollout, shows its status and cancels it', async () => {
    expect((await run('create', 'ramped', '-t', 'release', '-o', 'team-cart')).exitCode).toBe(0);
    const on = ['update', 'ramped', '-e', 'production', '--on', '--force', '-r', 'no fleet here'];
    expect((await run(...on)).exitCode).toBe(0);
    const badSteps = await run('ramp', 'ramped', '-e', 'production', '--steps', '50,x');
    expect(badSteps.exitCode).not.toBe(0);
    const started = await run(
      'ramp',
      'ramped',
      '-e',
      'production',
      '--steps',
      '10,50,100',
      '--step-seconds',
      '600',
      '-r',
      'checkout v2',
    );
    expect(started.exitCode).toBe(0);
    expect(started.stdout).toMatch(/^guarded rollout started for default\/ramped/);
    const again = await run('ramp', 'ramped', '-e', 'production');
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already running');
    const shown = await run('ramp-status', 'ramped', '-e', 'production');
    expect(shown.stdout).toMatch(
      /^ramped in production: running, step 1 of 3 \(10%\), rollout now 10%\n {2}steps 10, 50, 100%, 600 s each, judge sequential/,
    );
    expect(shown.stdout).toContain('this step: flag on 0 requests, flag off 0 requests');
    const cancelled = await run('ramp-cancel', 'ramped', '-e', 'production', '-r', 'not today');
    expect(cancelled.stdout).toMatch(/^guarded rollout cancelled for default\/ramped/);
    const after = await run('ramp-status', 'ramped', '-e', 'production');
    expect(after.stdout).toMatch(/^ramped in production: cancelled/);
    expect(after.stdout).toContain('FlagRampCancelled at 10%: not today');
  });
});
