import { join } from 'node:path';
import { issueToken } from '@rollgate/platform';
import { portsEnv, start, stop, tempDir, waitFor, type Proc } from './support';

/**
 * The kill switch end to end on the embedded default: the flags service in `npm start`'s host,
 * and @rollgate/flags-sdk in ANOTHER process (bench/support/flags-watcher.ts), which prints a
 * line, stamped with the wall clock, each time its ruleset changes. A kill must be served by
 * that SDK within 200 ms of the API call; when the host goes down the SDK keeps serving the last
 * ruleset and reports itself stale, and it resumes when the host is back. Ports 23901-23905.
 */

const dir = tempDir('flags-propagation');
const env: Record<string, string> & { ROLLGATE_TOKENS_FILE: string } = {
  ...portsEnv(23900),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_RECONCILER: 'off',
};
const flagsUrl = env['ROLLGATE_FLAGS_URL']!;
const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'e2e', scopes: ['flags', 'read'] });
const project = 'shop';
const flag = 'payments-v2';
const GOAL_MS = 200;

interface WatcherLine {
  type: 'ready' | 'changed' | 'stale' | 'error';
  version: number | null;
  enabled: boolean;
  at: number;
}

const now = () => performance.timeOrigin + performance.now();

function linesOf(proc: Proc): WatcherLine[] {
  return proc
    .output()
    .split('\n')
    .flatMap((line) => {
      try {
        return line.startsWith('{') ? [JSON.parse(line) as WatcherLine] : [];
      } catch {
        return []; // a line mixed with stderr output
      }
    });
}

async function startHost(): Promise<Proc> {
  const host = start('apps/embedded/src/main.ts', env);
  await waitFor(
    () => host.output().includes('Rollgate is running'),
    `host start:\n${host.output()}`,
  );
  return host;
}

async function command(path: string, method: 'POST' | 'PUT', body: unknown) {
  const response = await fetch(`${flagsUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json as { rulesetVersion: number };
}

const turnOn = () =>
  command(`/flags/${flag}/environments/production?project=${project}`, 'PUT', {
    enabled: true,
    defaultServe: true,
    reason: 'e2e: on',
    force: true, // no fleet runs here: the enablement guard is not what this test is about
  });
const kill = () =>
  command(`/flags/${flag}/kill?project=${project}`, 'POST', {
    environment: 'production',
    reason: 'e2e: kill',
  });

describe('flags propagation on the embedded default', () => {
  let host: Proc | undefined;
  let watcher: Proc | undefined;
  afterAll(async () => {
    if (watcher) await stop(watcher);
    if (host) await stop(host);
  });

  /** Waits for a line of the SDK process (from line `from` on); failures show both outputs. */
  async function sdkShows(
    match: (line: WatcherLine) => boolean,
    what: string,
    timeoutMs: number,
    from = 0,
  ): Promise<WatcherLine> {
    const find = () => linesOf(watcher!).slice(from).find(match);
    await waitFor(() => find() !== undefined, what, timeoutMs).catch((error: Error) => {
      const hostOutput = host?.output().slice(-2000) ?? '(host stopped)';
      throw new Error(`${error.message}\nSDK:\n${watcher!.output()}\nhost:\n${hostOutput}`);
    });
    return find()!;
  }

  it('an SDK in another process serves a kill within 200 ms, stays up while the service is down, and resumes', async () => {
    host = await startHost();
    await command('/flags/projects', 'POST', { name: project, reason: 'e2e' });
    await command('/flags', 'POST', { key: flag, project, type: 'kill-switch', owner: 'e2e' });
    await turnOn();

    watcher = start('bench/support/flags-watcher.ts', { ROLLGATE_FLAGS_TOKEN: token }, [
      flagsUrl,
      flag,
      project,
      'production',
    ]);
    await sdkShows(
      (line) => line.type === 'ready' && line.enabled,
      'the SDK to serve it on',
      20_000,
    );

    // One warm-up cycle, then five timed kills.
    const latencies: number[] = [];
    for (let round = 0; round < 6; round++) {
      const beforeKill = linesOf(watcher).length;
      const started = now();
      const { rulesetVersion } = await kill();
      const seen = await sdkShows((line) => !line.enabled, 'the kill', 5_000, beforeKill);
      expect(seen).toMatchObject({ type: 'changed', version: rulesetVersion, enabled: false });
      if (round > 0) latencies.push(seen.at - started);

      const beforeOn = linesOf(watcher).length;
      await turnOn();
      await sdkShows((line) => line.enabled, 'the flag on again', 5_000, beforeOn);
    }
    // Every kill within the goal (a failure lists the slow ones, in ms).
    expect(latencies).toHaveLength(5);
    expect(latencies.filter((ms) => ms >= GOAL_MS).map((ms) => Math.round(ms))).toEqual([]);

    // The host crashes: the SDK keeps serving the last ruleset and says it is stale.
    const versionBeforeOutage = linesOf(watcher).at(-1)!.version;
    const beforeOutage = linesOf(watcher).length;
    await stop(host, 'SIGKILL');
    host = undefined;
    const stale = await sdkShows((line) => line.type === 'stale', 'stale', 15_000, beforeOutage);
    expect(stale).toMatchObject({ version: versionBeforeOutage, enabled: true });
    expect(watcher.child.exitCode).toBeNull();

    // Restarted on the same data directory: the SDK reconnects by itself and a kill reaches it.
    const beforeRestart = linesOf(watcher).length;
    host = await startHost();
    await sdkShows((line) => line.type === 'ready', 'recovery', 15_000, beforeRestart);
    const { rulesetVersion } = await kill();
    await sdkShows(
      (line) => line.version === rulesetVersion && !line.enabled,
      'the kill after the outage',
      5_000,
      beforeRestart,
    );
  }, 120_000);
});
