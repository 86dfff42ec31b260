import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  firstReleaseWithUsers,
  goodCanaryThenBad,
  embeddedTarget,
  route,
  type ReleaseTarget,
} from './release-scenarios';
import { digest, portsEnv, stop, tempDir, waitFor, type Proc } from './support';

const dir = tempDir('canary');
const V1 = { digest: digest('1'), version: 'v1' };
const V2 = { digest: digest('2'), version: 'v2' };
// The bad build: one request in four fails.
const V3 = { digest: digest('3'), version: 'v3', errorRate: 0.25 };
const profiles = join(dir, 'profiles.json');
writeFileSync(
  profiles,
  JSON.stringify({
    [V1.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V2.digest]: { errorRate: 0.002, latencyMs: 5 },
    [V3.digest]: { errorRate: V3.errorRate, latencyMs: 5 },
  }),
);
const env = {
  ...portsEnv(19000),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};

describe('canary releases on the embedded default, with a real fleet and real traffic', () => {
  let host: Proc;
  let target: ReleaseTarget;
  let users: { stop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    ({ host, target } = await embeddedTarget(env, 'checkout'));
  });
  afterAll(async () => {
    await users?.stop();
    await stop(host);
  });

  it('deploys, promotes a good canary and rolls a bad one back automatically', async () => {
    const first = await firstReleaseWithUsers(target, V1, 150);
    users = first.users;
    expect(first.dataPlane).toBe('embedded');
    await goodCanaryThenBad(target, first.users, V2, V3, {
      canarySteps: [20, 50],
      stepSeconds: 12,
    });
    await users.stop();

    // A crashed host leaves no orphans: its instances exit with it.
    const instances = (await route(target)).backends['stable']!;
    expect(instances.length).toBe(2);
    await stop(host, 'SIGKILL');
    await waitFor(
      async () => {
        const answers = await Promise.all(
          instances.map((i) =>
            fetch(`http://127.0.0.1:${i.port}/info`).then(
              () => true,
              () => false,
            ),
          ),
        );
        return answers.every((up) => !up);
      },
      'instances to exit after the host was killed',
      10_000,
    );
  }, 300_000);
});
