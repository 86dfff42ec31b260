import type { RollgateConfig } from '@rollgate/platform';
import type { ReleaseView } from '../releases/format-release';
import { callApi } from '../releases/api-client';
import { releaseReport, type ReleaseReport, type TimelineEvent } from './report';
import { digestOf, type Scenario } from './scenario';
import { REQUEST_TIMEOUT_MS, RouteGroups, startTraffic } from './traffic';

const POLL_MS = 500;
/** How much longer than the server's consistency wait an API call may take. */
const API_MARGIN_MS = 20_000;
const ROUTE_POLL_MS = 250;
/** A request sent before a release ended has its answer (or its timeout) within this. */
const SETTLE_MS = REQUEST_TIMEOUT_MS + 500;
const DEMO_SERVICE = 'demo-shop';
const ENDED = ['succeeded', 'rolled-back', 'aborted'];
/** The phases the demo stops watching a release at: a paused one waits for a person. */
const STOPPED = [...ENDED, 'paused'];
/** A read model that replays a long log may take this long before the demo goes on anyway. */
const CATCH_UP_MS = 5 * 60_000;

/** The demo cannot go on (said in one line, no stack trace). */
export class DemoError extends Error {
  override readonly name = 'DemoError';
}

/** Where the demo's lines and reports go, and how it stops early. */
export interface DemoIo {
  print(line: string): void;
  /** Each release's report as soon as it is known. */
  report(report: ReleaseReport): void;
  signal: AbortSignal;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done, fail) => {
    if (signal.aborted) return fail(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      fail(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * The demo on a running Rollgate: a new service gets the scenario's first build, synthetic users
 * start, and each listed version is released in turn while the users keep coming. Returns what
 * each release did, in order.
 */
export async function runScenario(
  config: RollgateConfig,
  token: string,
  scenario: Scenario,
  io: DemoIo,
): Promise<ReleaseReport[]> {
  const { orchestrator, router } = config.serviceUrls;
  // A write answers once its read model has it, which may take the whole consistency wait.
  const timeoutMs = config.consistencyWaitMs + API_MARGIN_MS;
  const api = <T>(base: string, method: 'GET' | 'POST', path: string, body?: unknown) =>
    callApi<T>(base, method, path, method === 'GET' ? undefined : token, body, timeoutMs);

  await caughtUp(orchestrator, io);
  const service = await unusedServiceName(orchestrator);
  const [initial] = Object.keys(scenario.versions) as [string];

  const release = async (version: string, first: boolean) => {
    const { releaseId } = await api<{ releaseId: string }>(orchestrator, 'POST', '/releases', {
      service,
      artifact: { name: service, digest: digestOf(version, scenario.versions[version]!) },
      version,
      strategy: first ? 'canary' : scenario.strategy,
      plan: {
        replicas: scenario.instances,
        ...(scenario.strategy === 'canary' ? { canarySteps: scenario.steps } : {}),
        stepSeconds: scenario.stepSeconds,
        // Blue keeps warm one step long, not the production default of five minutes.
        warmSeconds: scenario.stepSeconds,
      },
      first,
    });
    io.print(`demo: ${version}: release ${releaseId}`);
    return { releaseId, view: await watch(releaseId, STOPPED) };
  };

  const watch = async (releaseId: string, until: string[]): Promise<ReleaseView> => {
    let shown = '';
    for (;;) {
      const view = await api<ReleaseView>(orchestrator, 'GET', `/releases/${releaseId}`).catch(
        (error: { status?: number }) => {
          // Just created: the read model may not have it yet.
          if (error.status === 404) return undefined;
          throw error;
        },
      );
      if (view) {
        const step =
          view.step >= 0
            ? ` — step ${view.step + 1}/${view.steps.length}: ${view.steps[view.step]!.description}`
            : '';
        const line = `${view.phase}${step}`;
        if (line !== shown) io.print(`demo:   ${(shown = line)}`);
        if (until.includes(view.phase)) {
          if (view.reason) io.print(`demo:   why: ${view.reason}`);
          return view;
        }
      }
      await sleep(POLL_MS, io.signal);
    }
  };

  io.print(
    `demo: releasing ${service} ${initial}, its first build, on ${scenario.instances} instance(s)`,
  );
  const first = await release(initial, true);
  if (first.view.phase !== 'succeeded')
    throw new DemoError(`the first release of ${service} ended ${first.view.phase}`);

  const route = await api<{ endpoint: { host: string; port: number } }>(
    router,
    'GET',
    `/routes/${service}`,
  );
  const routeGroups = followGroups(router, service, io.signal);
  io.print(
    `demo: ${scenario.rps} user requests a second now go to http://${route.endpoint.host}:${route.endpoint.port} (the data plane)`,
  );
  const users = startTraffic(route.endpoint, scenario.rps, routeGroups.groups);
  const reports: ReleaseReport[] = [];
  try {
    for (const [i, version] of scenario.releases.entries()) {
      const b = scenario.versions[version]!;
      io.print(
        `demo: releasing ${version} (${scenario.strategy}; errors ${(b.errorRate * 100).toFixed(1)}%, p50 ${b.latencyMs.p50} ms, p99 ${b.latencyMs.p99} ms)`,
      );
      const { releaseId, view } = await release(version, false);
      const timeline = await api<{ timeline: TimelineEvent[] }>(
        orchestrator,
        'GET',
        `/releases/${releaseId}/timeline`,
      );
      await sleep(SETTLE_MS, io.signal);
      const report = releaseReport(
        { releaseId, version, strategy: scenario.strategy, phase: view.phase },
        timeline.timeline,
        users.served,
      );
      reports.push(report);
      io.report(report);
      if (view.phase === 'paused' && i < scenario.releases.length - 1) {
        // One release at a time per service: the next one waits for this one to end.
        io.print(`demo: ${version} is paused; aborting it so the next release can start`);
        await api(orchestrator, 'POST', `/releases/${releaseId}/abort`, {
          reason: 'rollgate demo: paused, the next release of the scenario follows',
        });
        await watch(releaseId, ENDED);
      }
    }
  } finally {
    routeGroups.stop();
    await users.stop();
  }
  io.print(`demo: done. ${service} keeps its last good build: npx rollgate release -s ${service}`);
  return reports;
}

/** Reads the data plane's route a few times a second, for the group of each answer. */
function followGroups(router: string, service: string, signal: AbortSignal) {
  const groups = new RouteGroups();
  let running = true;
  const loop = async () => {
    while (running && !signal.aborted) {
      const route = await callApi<{ backends: Record<string, { id: string }[]> }>(
        router,
        'GET',
        `/routes/${service}`,
        undefined,
      ).catch(() => undefined);
      if (route) groups.update(route.backends);
      await new Promise((r) => setTimeout(r, ROUTE_POLL_MS));
    }
  };
  void loop();
  return { groups, stop: () => (running = false) };
}

/**
 * New read models on a log that already has history (a fresh schema on a long-lived broker)
 * replay it first: the demo starts once the orchestrator's /health says it caught up.
 */
async function caughtUp(orchestrator: string, io: DemoIo): Promise<void> {
  const deadline = Date.now() + CATCH_UP_MS;
  for (let tries = 0; Date.now() < deadline; tries++) {
    const health = await fetch(`${orchestrator}/health`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.json() as Promise<{ status?: string }>)
      .catch(() => ({ status: undefined }));
    if (health.status === 'ok') return;
    if (tries === 0)
      io.print(`demo: waiting until the read models caught up with the log (${health.status})`);
    await sleep(POLL_MS, io.signal);
  }
}

/** Each run releases a service of its own: demo-shop, then demo-shop-2, ... */
async function unusedServiceName(orchestrator: string): Promise<string> {
  for (let n = 1; ; n++) {
    const name = n === 1 ? DEMO_SERVICE : `${DEMO_SERVICE}-${n}`;
    const releases = await callApi<unknown[]>(
      orchestrator,
      'GET',
      `/releases?service=${name}`,
      undefined,
    );
    if (releases.length === 0) return name;
  }
}
