import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueToken } from '@rollgate/platform';
import {
  blueGreenSwitchesBack,
  driftHoldsTheRelease,
  firstReleaseWithUsers,
  goodCanaryThenBad,
  rollingReplacesEveryInstance,
  type ReleaseTarget,
} from './release-scenarios';
import {
  digest,
  dropServiceSchemas,
  portsEnv,
  startServiceProcesses,
  stop,
  tempDir,
  type Proc,
} from './support';

const dir = tempDir('production-releases');
const prefix = `e2erel${randomUUID().slice(0, 6)}_`;
const service = 'shop';
const haproxyPort = 18180;
const V1 = { digest: digest('a'), version: 'v1' };
const V2 = { digest: digest('b'), version: 'v2' };
const V3 = { digest: digest('c'), version: 'v3', errorRate: 0.25 };
const V4 = { digest: digest('d'), version: 'v4' };
const V5 = { digest: digest('e'), version: 'v5' };
const V6 = { digest: digest('f'), version: 'v6' };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V3.digest]: { errorRate: V3.errorRate, latencyMs: 5 },
    // V6's deploy silently fails: its instances still run V5 (the Knight Capital case).
    [V6.digest]: { actuallyRuns: { version: V5.version, digest: V5.digest } },
  }),
);
const env = {
  ...portsEnv(18100),
  ROLLGATE_MODE: 'production',
  ROLLGATE_DATA_PLANE: 'haproxy',
  ROLLGATE_HAPROXY_SERVICES: `${service}:${haproxyPort}`,
  ROLLGATE_SCHEMA_PREFIX: prefix,
  ROLLGATE_FLEET_PROFILES: profiles,
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
};

describe('releases in production mode: five processes on Kafka and PostgreSQL, HAProxy routing', () => {
  let procs = new Map<string, Proc>();
  let users: { stop: () => Promise<void> } | undefined;
  const target: ReleaseTarget = {
    orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
    router: env.ROLLGATE_ROUTER_URL,
    token: issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'ci', scopes: ['deploy'] }),
    service,
    output: () =>
      [...procs].map(([name, p]) => `--- ${name}\n${p.output().slice(-1500)}`).join('\n'),
  };

  beforeAll(async () => {
    procs = await startServiceProcesses(env);
  }, 120_000);

  afterAll(async () => {
    await users?.stop();
    await Promise.all([...procs.values()].map((p) => stop(p)));
    await dropServiceSchemas(prefix);
  });

  it('promotes a good canary and rolls a bad one back, users meeting the bad build only through the canary share', async () => {
    const first = await firstReleaseWithUsers(target, V1, 150);
    users = first.users;
    expect(first.dataPlane).toBe('haproxy');
    await goodCanaryThenBad(target, first.users, V2, V3, {
      canarySteps: [20, 50],
      stepSeconds: 12,
    });
    await first.users.stop();
  }, 300_000);

  it('replaces every instance in a rolling release; blue-green switches back within a second', async () => {
    await rollingReplacesEveryInstance(target, V4);
    await blueGreenSwitchesBack(target, V5, V4);
  }, 180_000);

  it('holds a release whose instances run another build than intended, until it is aborted', async () => {
    await rollingReplacesEveryInstance(target, V5);
    await driftHoldsTheRelease(target, V6, V5);
  }, 180_000);
});
