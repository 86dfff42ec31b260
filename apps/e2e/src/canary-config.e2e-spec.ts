import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  deploy,
  embeddedTarget,
  firstReleaseWithUsers,
  settle,
  type ReleaseTarget,
} from './release-scenarios';
import { digest, portsEnv, releaseTimeline, stop, tempDir, type Proc } from './support';

const dir = tempDir('canary-config');
const V1 = { digest: digest('1'), version: 'v1' };
// One request in ten fails: over the canary config's absolute bound of 5%.
const V2 = { digest: digest('2'), version: 'v2' };
const V3 = { digest: digest('3'), version: 'v3' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.1, latencyMs: 5 },
    [V3.digest]: { errorRate: 0.002, latencyMs: 5 },
  }),
);
const ports = portsEnv(26100);
const env = {
  ...ports,
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};

const canaryConfig = (judge: string) => ({
  apiVersion: 'rollgate/v1',
  kind: 'CanaryConfig',
  metrics: [
    {
      name: 'errors',
      query: { embedded: 'error-rate' },
      direction: 'increase',
      critical: true,
      thresholds: { max: 0.05 },
    },
    {
      name: 'latency',
      query: { embedded: 'latency' },
      direction: 'increase',
      thresholds: { aggregate: 'p99', max: 1000 },
    },
  ],
  judge: { name: judge },
});

describe('canary configs judge releases on the embedded default', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let users: { stop: () => Promise<void> } | undefined;

  const apply = async (config: object) => {
    const response = await fetch(`${ports['ROLLGATE_ANALYSIS_URL']}/canary-configs/checkout`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
      body: JSON.stringify({ config }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { version: number };
  };
  const intervals = async (releaseId: string) =>
    (await releaseTimeline(target.orchestrator, target.token, releaseId))
      .filter((e) => e.type === 'AnalysisIntervalScored')
      .map((e) => e.details);

  beforeAll(async () => {
    ({ host, target } = await embeddedTarget(env, 'checkout'));
  });
  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('judges each release with the config version in force when it started, and records which', async () => {
    users = (await firstReleaseWithUsers(target, V1, 150)).users;
    expect(await apply(canaryConfig('threshold'))).toMatchObject({ version: 1 });
    const plan = { canarySteps: [50], stepSeconds: 9 };
    const bad = await deploy(target, V2, 'canary', plan);
    // Changed while the release runs: the release keeps the version it started with.
    expect(await apply(canaryConfig('sequential'))).toMatchObject({ version: 2 });
    const rolledBack = await settle(target, bad, ['succeeded', 'rolled-back', 'paused']);
    expect(rolledBack['phase']).toBe('rolled-back');
    const judgedBad = await intervals(bad);
    expect(judgedBad.length).toBeGreaterThan(0);
    for (const interval of judgedBad)
      expect(interval).toMatchObject({
        judge: 'threshold',
        canaryConfig: { name: 'checkout', version: 1 },
      });
    expect(judgedBad.at(-1)).toMatchObject({ verdict: 'FAIL' });

    const good = await deploy(target, V3, 'canary', plan);
    expect(await settle(target, good, ['succeeded', 'rolled-back', 'paused'])).toMatchObject({
      phase: 'succeeded',
    });
    const judgedGood = await intervals(good);
    expect(judgedGood.length).toBeGreaterThan(0);
    for (const interval of judgedGood) {
      expect(interval['canaryConfig']).toEqual({ name: 'checkout', version: 2 });
      expect(['sequential', 'fixed-horizon']).toContain(interval['judge']);
    }
  }, 240_000);
});
