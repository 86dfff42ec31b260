import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RollgateConfig } from '@rollgate/platform';
import type { ReleaseView } from '@rollgate/releases';

/** Builds of the demo service: two healthy ones and one that fails a request in four. */
const digest = (c: string) => `sha256:${c.repeat(64)}`;
export const DEMO_BUILDS = {
  v1: { digest: digest('a'), profile: { errorRate: 0.005, latencyMs: 8 } },
  v2: { digest: digest('b'), profile: { errorRate: 0.005, latencyMs: 8 } },
  v3: { digest: digest('c'), profile: { errorRate: 0.25, latencyMs: 8 } },
} as const;

const DEMO_SERVICE = 'demo-shop';

/** Writes the fleet profiles the demo's builds run with; returns the file. */
export function writeDemoProfiles(dataDir: string): string {
  const file = join(dataDir, 'demo-profiles.json');
  writeFileSync(
    file,
    JSON.stringify(
      Object.fromEntries(Object.values(DEMO_BUILDS).map((b) => [b.digest, b.profile])),
    ),
  );
  return file;
}

async function call<T>(
  url: string,
  method: 'GET' | 'POST',
  token?: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = (await response.json()) as T & { message?: string };
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${parsed.message ?? ''}`);
  return parsed;
}

/** Users of the demo service: a steady trickle of requests through the data plane. */
function startTraffic(port: number) {
  const seen = { total: 0, failed: 0, byVersion: new Map<string, number>() };
  let running = true;
  const worker = async (id: number) => {
    for (let n = 0; running; n++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/cart`, {
          headers: { 'x-user-id': `user-${id}-${n % 40}` },
        });
        const body = (await response.json()) as { version?: string };
        seen.total++;
        if (response.status >= 500) seen.failed++;
        if (body.version)
          seen.byVersion.set(body.version, (seen.byVersion.get(body.version) ?? 0) + 1);
      } catch {
        seen.total++;
        seen.failed++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const workers = Array.from({ length: 8 }, (_, i) => worker(i));
  return { seen, stop: async () => ((running = false), await Promise.all(workers)) };
}

/**
 * New read models on a log that already has history (a fresh schema on a long-lived broker)
 * replay it first: the demo starts once the orchestrator's /health says it caught up.
 */
async function caughtUp(orchestrator: string, print: (line: string) => void): Promise<void> {
  // Up to 5 minutes; after that the demo goes on and the API's own waits take over.
  for (let tries = 0; tries < 600; tries++) {
    const health = await fetch(`${orchestrator}/health`)
      .then((r) => r.json() as Promise<{ status?: string }>)
      .catch(() => ({ status: undefined }));
    if (health.status === 'ok') return;
    if (tries === 0)
      print(`demo: waiting until the read models caught up with the log (${health.status})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const hasReleases = async (orchestrator: string, service: string) =>
  (await call<unknown[]>(`${orchestrator}/releases?service=${service}`, 'GET')).length > 0;

/**
 * The service the demo releases. Embedded, the demo runs once per data directory (stop and
 * start again: nothing repeats). On Kafka the log outlives any one run, so each run takes the
 * next unused name (demo-shop, demo-shop-2, ...).
 */
async function demoService(
  config: RollgateConfig,
  print: (line: string) => void,
): Promise<string | undefined> {
  const orchestrator = config.serviceUrls.orchestrator;
  if (config.eventLog !== 'kafka') {
    if (!(await hasReleases(orchestrator, DEMO_SERVICE))) return DEMO_SERVICE;
    print(`demo: ${DEMO_SERVICE} already has releases (delete .rollgate to watch the demo again)`);
    return undefined;
  }
  for (let n = 1; ; n++) {
    const name = n === 1 ? DEMO_SERVICE : `${DEMO_SERVICE}-${n}`;
    if (!(await hasReleases(orchestrator, name))) return name;
  }
}

/**
 * `npm start`'s demonstration: a first release, a healthy canary that is promoted, and a bad
 * canary that the analysis rolls back on its own — all on real processes and real traffic.
 */
export async function runDemo(
  config: RollgateConfig,
  token: string,
  print: (line: string) => void,
): Promise<void> {
  const orchestrator = config.serviceUrls.orchestrator;
  await caughtUp(orchestrator, print);
  const service = await demoService(config, print);
  if (!service) return;
  const release = async (version: keyof typeof DEMO_BUILDS, label: string, first = false) => {
    const { releaseId } = await call<{ releaseId: string }>(
      `${orchestrator}/releases`,
      'POST',
      token,
      {
        service,
        artifact: { name: service, digest: DEMO_BUILDS[version].digest },
        version,
        strategy: 'canary',
        plan: { replicas: 2, canarySteps: [20, 50], stepSeconds: 12 },
        first,
      },
    );
    print(`demo: ${label}: release ${releaseId}`);
    let shown = '';
    for (;;) {
      const view = await call<ReleaseView>(`${orchestrator}/releases/${releaseId}`, 'GET');
      const line = `${view.phase}${view.step >= 0 ? ` — step ${view.step + 1}/${view.steps.length}: ${view.steps[view.step]!.description}` : ''}`;
      if (line !== shown) print(`demo:   ${(shown = line)}`);
      if (['succeeded', 'rolled-back', 'aborted', 'paused'].includes(view.phase)) {
        if (view.reason) print(`demo:   why: ${view.reason}`);
        return view;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  print(`demo: releasing ${service} v1, its first release`);
  await release('v1', 'v1 (first release)', true);
  const route = await call<{ endpoint: { port: number } }>(
    `${config.serviceUrls.router}/routes/${service}`,
    'GET',
  );
  print(
    `demo: users now send requests to http://127.0.0.1:${route.endpoint.port} (the embedded proxy)`,
  );
  const users = startTraffic(route.endpoint.port);
  await release('v2', 'v2, a healthy build, as a canary with a same-share baseline');
  const before = { ...users.seen };
  await release('v3', 'v3, a bad build (one request in four fails)');
  const total = users.seen.total - before.total;
  const failed = users.seen.failed - before.failed;
  await users.stop();
  print(
    `demo: during the v3 release ${failed} of ${total} user requests failed (${((failed / Math.max(1, total)) * 100).toFixed(1)}%): only the canary's share ever reached v3`,
  );
  print(`demo: done. The services keep running: npx rollgate release -s ${service}`);
}
