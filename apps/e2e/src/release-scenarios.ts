// Release drills shared by the embedded default and production mode: the same steps and the same
// assertions, whatever runs the services and routes the traffic.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  api,
  startEmbeddedHost,
  traffic,
  waitFor,
  waitForPhase,
  waitForRelease,
  type Proc,
  type Served,
} from './support';

/** Where a drill finds Rollgate and which service it releases. */
export interface ReleaseTarget {
  orchestrator: string;
  router: string;
  token: string;
  service: string;
  /** Output of the Rollgate processes, added to failure messages. */
  output: () => string;
}

/** Starts the embedded host and aims drills at `service` on it, with the host's own admin token. */
export async function embeddedTarget(
  env: Record<string, string> & { ROLLGATE_ORCHESTRATOR_URL: string; ROLLGATE_ROUTER_URL: string },
  service: string,
): Promise<{ host: Proc; target: ReleaseTarget }> {
  const host = await startEmbeddedHost(env);
  const tokensFile = env['ROLLGATE_TOKENS_FILE']!;
  return {
    host,
    target: {
      orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
      router: env.ROLLGATE_ROUTER_URL,
      token: readFileSync(join(dirname(tokensFile), 'admin.token'), 'utf8').trim(),
      service,
      output: () => host.output(),
    },
  };
}

export interface Build {
  digest: string;
  version: string;
}

export type Strategy = 'rolling' | 'blue-green' | 'canary';

export async function deploy(
  target: ReleaseTarget,
  build: Build,
  strategy: Strategy,
  plan: object = {},
  first = false,
): Promise<string> {
  const created = await api(`${target.orchestrator}/releases`, 'POST', target.token, {
    service: target.service,
    artifact: { name: target.service, digest: build.digest },
    version: build.version,
    strategy,
    plan: { replicas: 2, ...plan },
    first,
  });
  expect(created.status).toBe(201);
  return created.body['releaseId'] as string;
}

/** Waits for one of `phases`, with the processes' last output in the error. */
export function settle(
  target: ReleaseTarget,
  releaseId: string,
  phases: string[],
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  return waitForPhase(target.orchestrator, releaseId, phases, timeoutMs).catch((error: Error) => {
    throw new Error(`${error.message}\n${target.output().slice(-3000)}`);
  });
}

interface RouteView {
  weights: Record<string, number>;
  backends: Record<string, { port: number }[]>;
  endpoint: { port: number };
  dataPlane: string;
  appliedAt: string | null;
}

export async function route(target: ReleaseTarget): Promise<RouteView> {
  const answer = await api(`${target.router}/routes/${target.service}`, 'GET', undefined);
  expect(answer.status).toBe(200);
  return answer.body as unknown as RouteView;
}

/** The weights and what the instances behind the weighted groups say they run. */
export async function running(target: ReleaseTarget) {
  const { weights, backends } = await route(target);
  const ports = Object.entries(weights)
    .filter(([, weight]) => weight > 0)
    .flatMap(([group]) => backends[group] ?? []);
  const infos = await Promise.all(
    ports.map(async (b) => (await fetch(`http://127.0.0.1:${b.port}/info`)).json()),
  );
  return { weights, digests: infos.map((i) => (i as { digest: string }).digest) };
}

/** Deploys the first build and starts users calling the service through the data plane. */
export async function firstReleaseWithUsers(
  target: ReleaseTarget,
  build: Build,
  perSecond: number,
): Promise<{ users: ReturnType<typeof traffic>; dataPlane: string }> {
  const id = await deploy(target, build, 'canary', {}, true);
  expect(await settle(target, id, ['succeeded'], 60_000)).toMatchObject({ phase: 'succeeded' });
  const { weights, endpoint, dataPlane } = await route(target);
  expect(weights).toMatchObject({ stable: 100 });
  return { users: traffic(endpoint.port, perSecond), dataPlane };
}

/**
 * A good canary is promoted; a bad one is rolled back by the analysis, and the users who met the
 * bad build stay within the canary's share. Returns the requests served during the bad release.
 */
export async function goodCanaryThenBad(
  target: ReleaseTarget,
  users: { served: Served[] },
  good: Build,
  bad: Build & { errorRate: number },
  plan: { canarySteps: number[]; stepSeconds: number },
): Promise<Served[]> {
  const promoted = await settle(target, await deploy(target, good, 'canary', plan), [
    'succeeded',
    'rolled-back',
    'paused',
  ]);
  expect(promoted).toMatchObject({ phase: 'succeeded', version: good.version });
  const badStart = users.served.length;

  const rolledBack = await settle(target, await deploy(target, bad, 'canary', plan), [
    'succeeded',
    'rolled-back',
    'paused',
  ]);
  expect(rolledBack['phase']).toBe('rolled-back');
  expect(String(rolledBack['reason'])).toMatch(/analysis FAIL at step 0/);
  const badEnd = users.served.length;
  await new Promise((r) => setTimeout(r, 1_000));

  const window = users.served.slice(badStart, badEnd);
  const share = plan.canarySteps[0]! / 100;
  const fromBad = window.filter((s) => s.version === bad.version);
  // Only the canary's share reached the bad build (a little slack for weighted round robin).
  expect(fromBad.length / window.length).toBeLessThan(share + 0.1);
  // Users saw about the canary's share of the bad build's failures (and the stable build's few).
  const failed = window.filter((s) => s.status >= 500 || s.status === 0).length;
  expect(failed / window.length).toBeLessThan(share * bad.errorRate * 1.5 + 0.01);
  const tail = users.served.slice(badEnd);
  expect(tail.length).toBeGreaterThan(0);
  expect(tail.every((s) => s.version === good.version)).toBe(true);
  expect((await route(target)).weights).toMatchObject({ stable: 100, canary: 0, baseline: 0 });
  return window;
}

/** A rolling release replaces every instance, batch by batch. */
export async function rollingReplacesEveryInstance(target: ReleaseTarget, build: Build) {
  const id = await deploy(target, build, 'rolling', { maxSurge: 1 });
  const rolled = await settle(target, id, ['succeeded', 'rolled-back', 'aborted']);
  expect(rolled['phase']).toBe('succeeded');
  expect((rolled['steps'] as unknown[]).length).toBe(2);
  expect(await running(target)).toEqual({
    weights: expect.objectContaining({ stable: 100 }) as unknown,
    digests: [build.digest, build.digest],
  });
}

/**
 * Blue-green: green takes all traffic at once; an abort while blue is kept warm switches back to
 * blue. Returns how long after the abort was sent the data plane confirmed the switch back.
 */
export async function blueGreenSwitchesBack(
  target: ReleaseTarget,
  green: Build,
  blue: Build,
): Promise<number> {
  const id = await deploy(target, green, 'blue-green', { warmSeconds: 120 });
  await waitForRelease(target.orchestrator, id, (v) => v['step'] === 2, 'blue to be kept warm');
  await waitFor(
    async () => (await running(target)).digests.every((d) => d === green.digest),
    'green to serve everything',
  );

  const sent = Date.now();
  const aborted = await api(`${target.orchestrator}/releases/${id}/abort`, 'POST', target.token, {
    reason: 'switch-back drill',
  });
  expect(aborted.status).toBe(200);
  let back: RouteView | undefined;
  await waitFor(
    async () => ((back = await route(target)).weights['green'] ?? 0) === 0,
    'the route to switch back to blue',
    10_000,
  );
  // Measured from before the abort was sent, so it can only overstate the delay.
  const switchBackMs = Date.parse(back!.appliedAt!) - sent;
  expect(switchBackMs).toBeLessThan(1_000);
  expect(await running(target)).toEqual({
    weights: expect.objectContaining({ stable: 100 }) as unknown,
    digests: [blue.digest, blue.digest],
  });
  expect(await settle(target, id, ['aborted'], 30_000)).toMatchObject({ phase: 'aborted' });
  return switchBackMs;
}

/** A build whose instances run something else (the Knight Capital case) holds the release. */
export async function driftHoldsTheRelease(target: ReleaseTarget, drifting: Build, stable: Build) {
  const id = await deploy(target, drifting, 'canary', { canarySteps: [10] });
  const held = await waitForRelease(
    target.orchestrator,
    id,
    (v) => ((v['drift'] as string[] | undefined) ?? []).length > 0,
    'drift to be detected',
  );
  expect(held['phase']).toBe('progressing');
  // The fleet view shows what runs where, and which instance is not running what it should.
  const fleet = await api(`${target.orchestrator}/services/${target.service}`, 'GET', undefined);
  expect(fleet.body).toMatchObject({
    service: target.service,
    stable: { artifact: { digest: stable.digest } },
    activeRelease: { id, phase: 'progressing' },
  });
  const instances = fleet.body['instances'] as {
    drifting: boolean;
    intended: { digest: string };
    reported: { digest: string } | null;
  }[];
  const driftingInstances = instances.filter((i) => i.drifting);
  expect(driftingInstances).toHaveLength(1);
  expect(driftingInstances[0]!.intended.digest).toBe(drifting.digest);
  expect(driftingInstances[0]!.reported?.digest).not.toBe(drifting.digest);
  await new Promise((r) => setTimeout(r, 1_500));
  const later = await api(`${target.orchestrator}/releases/${id}`, 'GET', undefined);
  expect(later.body['step']).toBe(held['step']);
  const aborted = await api(`${target.orchestrator}/releases/${id}/abort`, 'POST', target.token, {
    reason: 'drift',
  });
  expect(aborted.status).toBe(200);
  await settle(target, id, ['aborted'], 60_000);
  expect(await running(target)).toEqual({
    weights: expect.objectContaining({ stable: 100 }) as unknown,
    digests: [stable.digest, stable.digest],
  });
}

/** A build whose instances die on start is rolled back at once; the stable build keeps serving. */
export async function crashingBuildRollsBack(
  target: ReleaseTarget,
  crashing: Build,
  stable: Build,
) {
  const id = await deploy(target, crashing, 'rolling', { maxSurge: 1 });
  const ended = await settle(target, id, ['succeeded', 'rolled-back', 'aborted'], 60_000);
  expect(ended['phase']).toBe('rolled-back');
  expect(String(ended['reason'])).toMatch(
    new RegExp(`^instances of ${crashing.version} did not start healthy: .*exited during start`),
  );
  expect(await running(target)).toEqual({
    weights: expect.objectContaining({ stable: 100 }) as unknown,
    digests: [stable.digest, stable.digest],
  });
}
