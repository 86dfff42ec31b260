import { INestApplication } from '@nestjs/common';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseConfig, SERVICE_NAMES, urlVar, type ServiceName } from '@rollgate/platform';
import { buildProgram, createContext, runCli } from './program';
import { closedPortUrl, listenAsService } from './testing/service-fixtures';

describe('rollgate CLI', () => {
  const apps: INestApplication[] = [];
  const urls = {} as Record<ServiceName, string>;

  beforeAll(async () => {
    for (const service of SERVICE_NAMES) {
      const app = await listenAsService(service);
      apps.push(app);
      urls[service] = await app.getUrl();
    }
  });

  afterAll(() => Promise.all(apps.map((app) => app.close())));

  const urlEnv = (overrides: Partial<Record<ServiceName, string>> = {}) =>
    Object.fromEntries(
      SERVICE_NAMES.map((service) => [urlVar(service), overrides[service] ?? urls[service]]),
    );

  async function run(argv: string[], overrides: Partial<Record<ServiceName, string>> = {}) {
    const env = urlEnv(overrides);
    let stdout = '';
    let stderr = '';
    const exitCode = await runCli(argv, {
      config: parseConfig(env),
      output: { out: (text) => (stdout += text), err: (text) => (stderr += text) },
      probeTimeoutMs: 2000,
    });
    return { exitCode, stdout, stderr };
  }

  it('status prints one up row per service and exits 0', async () => {
    const { exitCode, stdout, stderr } = await run(['status']);

    expect(exitCode).toBe(0);
    expect(stderr).toBe('');
    const [table, releases] = stdout.trimEnd().split('\n\n');
    const lines = table!.split('\n');
    expect(lines[0]).toMatch(/^SERVICE\s+URL\s+STATUS\s+LAG\s+OLDEST\s+DETAIL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(0, 3))).toEqual(
      SERVICE_NAMES.map((service) => [service, urls[service], 'up']),
    );
    // These stand-in services answer /health only: the releases section says why it is empty.
    expect(releases).toMatch(/^releases unknown: /);
  });

  it('status exits 1 and marks a service unreachable when nothing listens on its URL', async () => {
    const closed = await closedPortUrl();
    const { exitCode, stdout } = await run(['status'], { analysis: closed });

    expect(exitCode).toBe(1);
    const analysisLine = stdout.split('\n').find((line) => line.startsWith('analysis'));
    expect(analysisLine).toMatch(
      new RegExp(`^analysis\\s+${closed}\\s+unreachable\\s+-\\s+-\\s+ECONNREFUSED$`),
    );
  });

  it('prints text a service sends with its control characters escaped, never obeyed', async () => {
    const hostile = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ status: 'ok', details: { service: { name: '\x1b]0;owned\x07x' } } }),
      );
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const { port } = hostile.address() as AddressInfo;
    try {
      const { stdout } = await run(['status'], { flags: `http://127.0.0.1:${port}` });
      expect(stdout).toContain('answered as \\x1b]0;owned\\x07x, expected flags');
      expect([...stdout].some((char) => char < ' ' && char !== '\n')).toBe(false);
    } finally {
      hostile.close();
    }
  });

  it('status --json prints the rows as JSON with the same exit code', async () => {
    const closed = await closedPortUrl();
    const { exitCode, stdout } = await run(['status', '--json'], { flags: closed });

    expect(exitCode).toBe(1);
    const rows = JSON.parse(stdout) as { service: string; status: string }[];
    expect(rows.map((row) => [row.service, row.status])).toEqual(
      SERVICE_NAMES.map((service) => [service, service === 'flags' ? 'unreachable' : 'up']),
    );
  });

  it('stores --token for later commands, falling back to ROLLGATE_TOKEN', async () => {
    const tokenAfter = async (argv: string[]) => {
      const config = parseConfig({ ROLLGATE_TOKEN: 'rg_from_env', ...urlEnv() });
      const context = createContext({
        config,
        output: { out: () => undefined, err: () => undefined },
      });
      await buildProgram(context, () => undefined).parseAsync(argv, { from: 'user' });
      return context.token;
    };
    expect(await tokenAfter(['--token', 'rg_from_flag', 'status'])).toBe('rg_from_flag');
    expect(await tokenAfter(['status'])).toBe('rg_from_env');
  });

  it('answers an unknown command with a clear error and the help, exit 1', async () => {
    const { exitCode, stdout, stderr } = await run(['deploy-everything']);

    expect(exitCode).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain("error: unknown command 'deploy-everything'");
    expect(stderr).toContain('Usage: rollgate [options] [command]');
    expect(stderr).toContain('status [options]');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('prints help on --help with exit 0', async () => {
    const { exitCode, stdout } = await run(['--help']);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('Show the health of every Rollgate service');
  });
});
