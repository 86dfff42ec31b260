import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { portsEnv, ROOT, tempDir, waitFor } from './support';

/** `node bin/rollgate.js …` as a user runs it: stdout and stderr apart, the exit code at the end. */
function rollgate(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/rollgate.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

/** A Rollgate API that no longer answers: the demo stopped what it started. */
const gone = (url: string) =>
  fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
    () => false,
    () => true,
  );

/** A scenario that releases v2 over v1 at 150 requests a second, with short steps. */
function scenarioFile(dir: string, versions: Record<string, unknown>): string {
  const file = join(dir, 's.json');
  writeFileSync(
    file,
    JSON.stringify({
      instances: 2,
      rps: 150,
      strategy: 'canary',
      steps: [10, 25, 50],
      stepSeconds: 10,
      versions,
      releases: ['v2'],
    }),
  );
  return file;
}

interface RequestCount {
  total: number;
  failed: number;
}

describe('rollgate demo', () => {
  it('rolls back a build with 5x the error rate at 150 req/s, measured from its first request', async () => {
    const dir = tempDir('demo');
    const env = {
      ...portsEnv(17700),
      ROLLGATE_DATA_DIR: join(dir, 'data'),
      ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    };
    const scenario = scenarioFile(dir, {
      v1: { errorRate: 0.01, latencyMs: { p50: 20, p99: 60 } },
      v2: { errorRate: 0.05, latencyMs: { p50: 20, p99: 60 } },
    });

    const demo = rollgate(['demo', '--scenario', scenario, '--json'], env);
    const code = await demo.exited;
    expect({ code, stderr: code === 0 ? '' : demo.stderr() }).toEqual({ code: 0, stderr: '' });

    const { releases } = JSON.parse(demo.stdout()) as {
      releases: {
        version: string;
        strategy: string;
        outcome: string;
        detectedAfterMs: number;
        rollbackCompletedAfterMs: number;
        peakNewVersionPercent: number;
        requests: RequestCount;
        requestsByGroup: Record<string, RequestCount>;
        requestsByVersion: Record<string, RequestCount>;
      }[];
    };
    expect(releases).toHaveLength(1);
    const [bad] = releases as [(typeof releases)[number]];
    expect(bad).toMatchObject({ version: 'v2', strategy: 'canary', outcome: 'rolled_back' });
    expect(bad.detectedAfterMs).toBeGreaterThan(0);
    expect(bad.detectedAfterMs).toBeLessThanOrEqual(90_000);
    expect(bad.rollbackCompletedAfterMs).toBeGreaterThanOrEqual(bad.detectedAfterMs);
    // Rolled back within 90 s of its first request: the route is back on v1 by then.
    expect(bad.rollbackCompletedAfterMs).toBeLessThanOrEqual(90_000);
    // Rolling back is a route change, not another analysis: seconds after the verdict.
    expect(bad.rollbackCompletedAfterMs - bad.detectedAfterMs).toBeLessThanOrEqual(30_000);
    // The users it hurt: at most its canary share of all requests, at its worst step.
    const share = bad.peakNewVersionPercent / 100;
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(0.5);
    const v2 = bad.requestsByVersion['v2']!;
    expect(v2.failed).toBeGreaterThan(0);
    expect(v2.failed).toBeLessThan(share * bad.requests.total);
    // The router splits by weight, request by request: a binomial count, so allow five standard deviations.
    const canaryMean = share * bad.requests.total;
    expect(bad.requestsByGroup['canary']!.total).toBeLessThan(
      canaryMean + 5 * Math.sqrt(canaryMean * (1 - share)),
    );
    // Every failure users saw: the bad build's, plus v1's own 1 % (twice that, for chance).
    expect(bad.requests.failed).toBeGreaterThanOrEqual(v2.failed);
    expect(bad.requests.failed).toBeLessThanOrEqual(v2.failed + 0.02 * bad.requests.total);
    // 150 requests a second while the release ran: the generator kept its rate.
    expect(bad.requests.total).toBeGreaterThan(150 * (bad.rollbackCompletedAfterMs / 1000));
    // Everything it started has stopped.
    expect(await gone(env.ROLLGATE_ORCHESTRATOR_URL)).toBe(true);
  }, 240_000);

  it('refuses a bad scenario with exit code 2, naming the field', async () => {
    const dir = tempDir('demo-bad');
    const scenario = scenarioFile(dir, { v1: { errorRate: 0.01 }, v2: { errorRate: 5 } });
    const demo = rollgate(['demo', '--scenario', scenario], portsEnv(17700));
    expect(await demo.exited).toBe(2);
    expect(demo.stderr()).toBe(
      `error: ${scenario}: versions.v2.errorRate: must be between 0 and 1 (got 5)\n`,
    );
    expect(demo.stdout()).toBe('');
  });

  it("runs npm start's scenario and stops everything it started on Ctrl-C", async () => {
    const dir = tempDir('demo-interrupted');
    const env = {
      ...portsEnv(17710),
      ROLLGATE_DATA_DIR: join(dir, 'data'),
      ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    };
    const demo = rollgate(['demo', '--keep-running'], env);
    try {
      await waitFor(
        () => /demo: {3}progressing — step 1\/3: canary 20%/.test(demo.stdout()),
        "the default scenario's first canary step",
        150_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}:\n${demo.stdout()}${demo.stderr()}`);
      });
      // The host's banner, as `npm start` always showed it.
      expect(demo.stdout()).toContain('Rollgate is running (embedded mode).');
      // ... with the web console on it.
      expect(demo.stdout()).toContain(
        `console       http://127.0.0.1:${17710 + 6}   (sign in with the admin token)`,
      );
      expect(demo.stdout()).toMatch(
        /demo: 60 user requests a second now go to http:\/\/127\.0\.0\.1:\d+/,
      );
      // Ctrl-C is how `npm start` ends: a clean stop, exit code 0.
      demo.child.kill('SIGINT');
      expect(await demo.exited).toBe(0);
      expect(await gone(env.ROLLGATE_ORCHESTRATOR_URL)).toBe(true);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGINT');
    }
  }, 200_000);
});
