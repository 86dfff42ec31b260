import type { FleetDriver, FleetInstance, InstanceSpec } from '@rollgate/fleet';
import { FleetManager } from './fleet-manager';

const v1 = `sha256:${'1'.repeat(64)}`;
const v2 = `sha256:${'2'.repeat(64)}`;

/** Instances another replica started: what a successor's driver finds on the agents. */
function driverRunning(found: FleetInstance[]): FleetDriver & { started: InstanceSpec[] } {
  const started: InstanceSpec[] = [];
  let adopted = false;
  return {
    kind: 'test',
    started,
    start: async (spec) => {
      started.push(spec);
      return { ...spec, id: `new-${started.length}`, intended: spec, host: 'h', port: 1 };
    },
    stop: async () => undefined,
    observe: async () => [],
    adopt: async () => (adopted ? [] : ((adopted = true), found)),
    close: async () => undefined,
  };
}

const instance = (id: string, group: FleetInstance['group'], digest: string): FleetInstance => ({
  id,
  service: 'shop',
  group,
  intended: { version: digest === v1 ? 'v1' : 'v2', digest },
  host: 'h',
  port: 1,
});

describe('FleetManager.adopt', () => {
  it('gives taken-over instances their role by build, and starts none of them again', async () => {
    const driver = driverRunning([
      instance('promoted-canary', 'canary', v1),
      instance('old-stable', 'stable', v1),
      instance('baseline', 'baseline', v1),
      instance('canary', 'canary', v2),
    ]);
    const fleet = new FleetManager(driver);
    expect(await fleet.adopt('shop', v1)).toBe(4);
    const role = (group: string) =>
      fleet
        .of('shop', group as never)
        .map((m) => m.instance.id)
        .sort();
    expect(role('stable')).toEqual(['old-stable', 'promoted-canary']);
    expect(role('baseline')).toEqual(['baseline']);
    expect(role('canary')).toEqual(['canary']);
    await fleet.ensure('shop', 'stable', 2, { version: 'v1', digest: v1 });
    await fleet.ensure('shop', 'canary', 1, { version: 'v2', digest: v2 });
    expect(driver.started).toEqual([]);
    expect(await fleet.adopt('shop', v1)).toBe(0);
  });

  it('takes nothing over from a driver whose instances die with their process', async () => {
    const local: FleetDriver = { ...driverRunning([instance('x', 'stable', v1)]) };
    delete local.adopt;
    expect(await new FleetManager(local).adopt('shop', v1)).toBe(0);
  });
});
