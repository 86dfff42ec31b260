import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blueGreenSwitchesBack,
  crashingBuildRollsBack,
  deploy,
  driftHoldsTheRelease,
  embeddedTarget,
  rollingReplacesEveryInstance,
  settle,
  type ReleaseTarget,
} from './release-scenarios';
import { digest, portsEnv, stop, tempDir, type Proc } from './support';

const dir = tempDir('strategies');
const V1 = { digest: digest('4'), version: 'v1' };
const V2 = { digest: digest('5'), version: 'v2' };
const V3 = { digest: digest('6'), version: 'v3' };
const V4 = { digest: digest('7'), version: 'v4' };
const V5 = { digest: digest('8'), version: 'v5' };
const profiles = join(dir, 'profiles.json');
// V4's deploy silently fails: its instances still run V1 (the Knight Capital case).
writeFileSync(
  profiles,
  JSON.stringify({
    [V4.digest]: { actuallyRuns: { version: 'v1', digest: V1.digest } },
    // V5 dies on start (a bad config): it never serves.
    [V5.digest]: { crashesOnStart: true },
  }),
);
const env = {
  ...portsEnv(19100),
  ROLLGATE_DATA_DIR: join(dir, 'data'),
  ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  ROLLGATE_FLEET_PROFILES: profiles,
};

describe('rolling, blue-green and the drift guard on the embedded default', () => {
  let host: Proc;
  let target: ReleaseTarget;

  beforeAll(async () => {
    ({ host, target } = await embeddedTarget(env, 'orders'));
  });
  afterAll(() => stop(host));

  it('replaces every instance in a rolling release; blue-green switches at once, and back within a second', async () => {
    await settle(target, await deploy(target, V1, 'rolling', {}, true), ['succeeded'], 60_000);
    await rollingReplacesEveryInstance(target, V2);
    await blueGreenSwitchesBack(target, V3, V2);
  }, 180_000);

  it('holds a release whose instances run another build than intended, until it is aborted', async () => {
    await driftHoldsTheRelease(target, V4, V2);
  }, 120_000);

  it('rolls back at once a build whose instances die on start', async () => {
    await crashingBuildRollsBack(target, V5, V2);
  }, 120_000);
});
