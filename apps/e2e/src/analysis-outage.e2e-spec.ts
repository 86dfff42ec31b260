import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { startPrometheus, waitForScrapes, type PrometheusServer } from '@rollgate/platform/testing';
import {
  deploy,
  firstReleaseWithUsers,
  settle,
  type Build,
  type ReleaseTarget,
} from './release-scenarios';
import {
  api,
  digest,
  fleetDiscovery,
  portsEnv,
  start,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from './support';

// Ports 25000-25999: 25001-25005 the Rollgate host, 25200 fleet discovery for Prometheus.
const V1: Build = { digest: digest('a'), version: 'v1' };
const V2: Build = { digest: digest('b'), version: 'v2' };

function profilesFile(dir: string): string {
  const file = join(dir, 'profiles.json');
  writeFileSync(
    file,
    JSON.stringify({
      [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
      [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
    }),
  );
  return file;
}

async function startHost(
  name: string,
  base: number,
  extra: Record<string, string> = {},
): Promise<{ host: Proc; target: ReleaseTarget }> {
  const dir = tempDir(name);
  const env = {
    ...portsEnv(base),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_FLEET_PROFILES: profilesFile(dir),
    ...extra,
  };
  const host = start('apps/embedded/src/main.ts', env);
  await waitFor(
    () => host.output().includes('Rollgate is running'),
    `start:\n${host.output()}`,
    90_000,
  );
  return {
    host,
    target: {
      orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
      router: env.ROLLGATE_ROUTER_URL,
      token: readFileSync(join(dir, 'admin.token'), 'utf8').trim(),
      service: name,
      output: () => host.output(),
    },
  };
}

interface TimelineEntry {
  type: string;
  reason: string | null;
  details: Record<string, unknown>;
}

/** Every event of a release as the log tells it (GET /releases/:id/timeline). */
async function timeline(target: ReleaseTarget, releaseId: string): Promise<TimelineEntry[]> {
  const answer = await api(
    `${target.orchestrator}/releases/${releaseId}/timeline`,
    'GET',
    target.token,
  );
  expect(answer.status).toBe(200);
  return answer.body['timeline'] as TimelineEntry[];
}

const ofType = (entries: TimelineEntry[], type: string) => entries.filter((e) => e.type === type);

const canaryRequests = (entry: TimelineEntry) =>
  (entry.details['canary'] as { requests: number } | undefined)?.requests ?? 0;

describe('analysis on Prometheus: low traffic, and a source that dies', () => {
  let discovery: Server;
  let prometheus: PrometheusServer;
  let host: Proc;
  let quiet: ReleaseTarget;
  let outage: ReleaseTarget;
  let users: { stop: () => Promise<void> }[] = [];

  beforeAll(async () => {
    discovery = await fleetDiscovery('http://127.0.0.1:25002', ['quiet', 'outage'], 25200);
    prometheus = await startPrometheus([
      {
        job_name: 'fleet',
        http_sd_configs: [{ url: 'http://127.0.0.1:25200/', refresh_interval: '1s' }],
      },
    ]);
    const started = await startHost('analysis', 25000, {
      ROLLGATE_METRIC_SOURCE: 'prometheus',
      ROLLGATE_PROMETHEUS_URL: prometheus.url,
      // Prometheus discovers new instances a few seconds late: tolerate a few empty intervals.
      ROLLGATE_ANALYSIS_MAX_NODATA: '5',
    });
    host = started.host;
    quiet = { ...started.target, service: 'quiet' };
    outage = { ...started.target, service: 'outage' };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(users.map((u) => u.stop()));
    users = [];
    if (host) await stop(host);
    await prometheus?.stop('SIGKILL');
    discovery?.close();
  });

  it('a low-traffic service (2 req/s) gets the low-traffic policy and a verdict that says so', async () => {
    const first = await firstReleaseWithUsers(quiet, V1, 2);
    users.push(first.users);
    await waitForScrapes(prometheus.url, 2);
    const releaseId = await deploy(quiet, V2, 'canary', { canarySteps: [20], stepSeconds: 12 });
    const ended = await settle(quiet, releaseId, ['succeeded', 'rolled-back', 'paused']);
    expect(ended).toMatchObject({ phase: 'succeeded', version: 'v2' });
    await first.users.stop();
    const story = await timeline(quiet, releaseId);
    const lowTraffic =
      /^(analysis PASS: )?low traffic \(canary [\d.]+ req\/s, baseline [\d.]+ req\/s\): .*beyond the 36 s ceiling .* judged alone by the threshold judge/;
    // Every interval went to the threshold judge, and the verdict and the step say why.
    const intervals = ofType(story, 'AnalysisIntervalScored');
    expect(intervals.length).toBeGreaterThan(0);
    for (const interval of intervals) expect(interval.reason).toMatch(lowTraffic);
    expect(intervals.some((e) => canaryRequests(e) > 0)).toBe(true);
    const [verdict] = ofType(story, 'AnalysisVerdictReached');
    expect(verdict).toMatchObject({ details: { verdict: 'PASS' } });
    expect(verdict!.reason).toMatch(lowTraffic);
    expect(ofType(story, 'ReleaseStepCompleted')[0]!.reason).toMatch(lowTraffic);
  }, 120_000);

  it('a release whose metric source goes down mid-analysis never promotes', async () => {
    const first = await firstReleaseWithUsers(outage, V1, 100);
    users.push(first.users);
    const releaseId = await deploy(outage, V2, 'canary', {
      canarySteps: [25, 50],
      stepSeconds: 15,
    });
    // The analysis scores an interval of real canary traffic read from Prometheus...
    await waitFor(
      async () =>
        ofType(await timeline(outage, releaseId), 'AnalysisIntervalScored').some(
          (e) => canaryRequests(e) > 0,
        ),
      'an analysis interval scored on canary traffic from Prometheus',
      60_000,
    );
    // ...when Prometheus dies.
    await prometheus.stop('SIGKILL');

    const ended = await settle(outage, releaseId, ['succeeded', 'rolled-back'], 120_000);
    expect(ended['phase']).toBe('rolled-back');
    expect(String(ended['reason'])).toMatch(/analysis (FAIL|NODATA) at step \d/);
    expect(String(ended['reason'])).toMatch(/metric source prometheus failed: fetch failed/);
    const story = await timeline(outage, releaseId);
    expect(ofType(story, 'ReleaseSucceeded')).toEqual([]);
    // Scored on data before the outage; NODATA after it, saying why.
    const intervals = ofType(story, 'AnalysisIntervalScored');
    expect(intervals.some((e) => canaryRequests(e) > 0)).toBe(true);
    const last = intervals[intervals.length - 1]!;
    expect(last.details['verdict']).toBe('NODATA');
    expect(last.reason).toMatch(/^metric source prometheus failed: fetch failed/);
  }, 180_000);
});
