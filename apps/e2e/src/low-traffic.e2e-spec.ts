import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import {
  deploy,
  embeddedTarget,
  route,
  settle,
  type Build,
  type ReleaseTarget,
} from './release-scenarios';
import {
  api,
  cli,
  digest,
  portsEnv,
  releaseTimeline,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from './support';

const dir = tempDir('low-traffic');
const V1 = { digest: digest('a'), version: 'v1' };
const V2 = { digest: digest('b'), version: 'v2' };
const V3 = { digest: digest('c'), version: 'v3' };
const V4 = { digest: digest('d'), version: 'v4' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify(
    Object.fromEntries([V1, V2, V3, V4].map((b) => [b.digest, { errorRate: 0.002, latencyMs: 5 }])),
  ),
);
const env = {
  ...portsEnv(27100),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};

/**
 * `perSecond` requests a second through the data plane, evenly spaced and without a sticky user
 * (a handful of sticky users would land wherever their hashes fall, not in the canary's share).
 */
function steadyTraffic(port: number, perSecond: number): { stop: () => Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const next = Date.now() + 1000 / perSecond;
      await fetch(`http://127.0.0.1:${port}/work`, { signal: AbortSignal.timeout(2_000) }).catch(
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Synthetic requests a group's instances answered (their `rollgate_synthetic_requests_total`). */
async function syntheticAnswered(target: ReleaseTarget, group: string): Promise<number> {
  const instances = (await route(target)).backends[group] ?? [];
  const counts = await Promise.all(
    instances.map(async ({ port }) => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return [...text.matchAll(/^rollgate_synthetic_requests_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** A one-step canary at 10% of a 2 req/s service, with the release's low-traffic choices. */
async function lowTrafficRelease(
  target: ReleaseTarget,
  build: Build,
  stepSeconds: number,
  lowTraffic: object,
): Promise<string> {
  const created = await api(`${target.orchestrator}/releases`, 'POST', target.token, {
    service: target.service,
    artifact: { name: target.service, digest: build.digest },
    version: build.version,
    strategy: 'canary',
    plan: { replicas: 2, canarySteps: [10], stepSeconds },
    lowTraffic,
  });
  expect(created.status).toBe(201);
  return created.body['releaseId'] as string;
}

describe('low traffic: a 2 req/s service on the embedded default', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let users: { stop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    ({ host, target } = await embeddedTarget(env, 'quiet'));
    const first = await deploy(target, V1, 'canary', {}, true);
    expect(await settle(target, first, ['succeeded'], 60_000)).toMatchObject({
      phase: 'succeeded',
    });
    users = steadyTraffic((await route(target)).endpoint.port, 2);
  }, 90_000);
  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('raises canary and baseline shares, as the applied policy allows, and reaches a compared verdict within the ceiling', async () => {
    // The choice comes from the service's policy, applied with the CLI as a platform team would.
    const policy = (lowTraffic?: object) => {
      const file = join(dir, `policy-${lowTraffic ? 'raise' : 'plain'}.yaml`);
      writeFileSync(
        file,
        toYaml({
          apiVersion: 'rollgate/v1',
          kind: 'ServicePolicy',
          service: target.service,
          release: { strategy: 'canary', plan: { steps: [10], stepSeconds: 30, replicas: 2 } },
          ...(lowTraffic && { lowTraffic }),
        }),
      );
      return cli(['apply', '-f', file], { ...env, ROLLGATE_TOKEN: target.token });
    };
    // Window 30 s (3 intervals of 10 s), ceiling 90 s; at 10% each group sees 0.2 req/s, so 40
    // requests per group would take 200 s; at the 40% cap, 50 s: within the ceiling.
    const applied = await policy({
      minimumRequests: 40,
      maxWindowFactor: 3,
      raiseShare: { maxPercent: 40 },
    });
    expect(applied.output).toContain(`policy ${target.service}: version 1 applied`);
    expect(applied.code).toBe(0);
    const started = Date.now();
    const created = await api(`${target.orchestrator}/releases`, 'POST', target.token, {
      service: target.service,
      artifact: { name: target.service, digest: V2.digest },
      version: V2.version,
    });
    expect(created.status).toBe(201);
    const id = created.body['releaseId'] as string;
    await waitFor(
      async () => ((await route(target)).weights['canary'] ?? 0) > 10,
      'the canary share to be raised',
      30_000,
    );
    const { weights } = await route(target);
    expect(weights['baseline']).toBe(weights['canary']);
    expect(weights['canary']).toBeLessThanOrEqual(40);
    expect(await settle(target, id, ['succeeded', 'rolled-back', 'paused'], 120_000)).toMatchObject(
      { phase: 'succeeded' },
    );
    // Within the 90 s ceiling (plus the instances' start and the final route).
    expect(Date.now() - started).toBeLessThan(105_000);
    // The next tests choose for themselves: the policy goes back to no low-traffic choices.
    expect((await policy()).code).toBe(0);
    const timeline = await releaseTimeline(target.orchestrator, target.token, id);
    const passed = timeline.find((e) => e.type === 'ReleaseStepCompleted');
    expect(passed?.reason).toMatch(/analysis PASS/);
    expect(passed?.reason).toMatch(/shares were raised to \d+% each \(cap 40%\)/);
    // Compared with the baseline, not the canary alone.
    expect(passed?.reason).not.toMatch(/judged alone by the threshold judge/);
    // The choice is on the log: the analysis asked, the release raised the shares.
    const types = timeline.map((e) => e.type);
    expect(types).toContain('AnalysisShareRaiseRequested');
    expect(types).toContain('ReleaseShareRaised');
  }, 150_000);

  it('pauses for a person when the threshold fallback needs confirmation', async () => {
    // No raise allowed: 200 requests per group are out of reach, so the canary is judged alone,
    // and the release's policy wants a person to confirm that.
    const id = await lowTrafficRelease(target, V3, 12, { thresholdFallback: 'confirm' });
    const paused = await settle(target, id, ['succeeded', 'rolled-back', 'paused'], 60_000);
    expect(paused['phase']).toBe('paused');
    expect(String(paused['reason'])).toMatch(/analysis MARGINAL at step 0: threshold fallback/);
    expect(String(paused['reason'])).toMatch(/asks a person to confirm/);
    const aborted = await api(`${target.orchestrator}/releases/${id}/abort`, 'POST', target.token, {
      reason: 'not confirmed',
    });
    expect(aborted.status).toBeLessThan(300);
    expect(await settle(target, id, ['aborted'], 30_000)).toMatchObject({ phase: 'aborted' });
  }, 90_000);

  it('drives marked synthetic traffic at canary and baseline and compares within 2 minutes', async () => {
    // 2 synthetic req/s to each group on top of 0.2 real ones: 40 requests per group in ~20 s.
    const started = Date.now();
    const id = await lowTrafficRelease(target, V4, 30, {
      minimumRequests: 40,
      synthetic: { rps: 2, mix: [{ method: 'GET', path: '/work', weight: 1 }] },
    });
    await waitFor(
      async () =>
        (await syntheticAnswered(target, 'canary')) >= 5 &&
        (await syntheticAnswered(target, 'baseline')) >= 5,
      'marked synthetic requests at canary and baseline',
      40_000,
    );
    expect(await settle(target, id, ['succeeded', 'rolled-back', 'paused'], 110_000)).toMatchObject(
      { phase: 'succeeded' },
    );
    expect(Date.now() - started).toBeLessThan(120_000);
    const timeline = await releaseTimeline(target.orchestrator, target.token, id);
    const passed = timeline.find((e) => e.type === 'ReleaseStepCompleted');
    expect(passed?.reason).toMatch(/analysis PASS/);
    expect(passed?.reason).not.toMatch(/judged alone by the threshold judge/);
    // On the log: synthetic traffic started and stopped, and the scored intervals say how much
    // of what they judged was synthetic.
    const types = timeline.map((e) => e.type);
    expect(types).toContain('SyntheticTrafficStarted');
    expect(types).toContain('SyntheticTrafficStopped');
    const scored = timeline.filter((e) => e.type === 'AnalysisIntervalScored');
    expect(
      scored.some((e) =>
        /synthetic traffic: about \d+ of each group's requests/.test(e.reason ?? ''),
      ),
    ).toBe(true);
  }, 150_000);
});
