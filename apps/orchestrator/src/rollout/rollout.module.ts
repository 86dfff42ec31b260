import { Module } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LocalFleetDriver, type BuildProfile } from '@rollgate/fleet';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { FleetController } from './fleet.controller';
import { FleetManager } from './fleet-manager';
import { FLEET_MANAGER, Reconciler } from './reconciler';

/** Workspace root: the local fleet runs apps/sample-service from here. */
const ROOT = resolve(__dirname, '../../../..');

function profilesOf(file: string | undefined): Map<string, BuildProfile> {
  if (!file) return new Map();
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, BuildProfile>;
  return new Map(Object.entries(parsed));
}

/** Drives releases: the reconcile loop and the fleet it starts and stops. */
@Module({
  controllers: [FleetController],
  providers: [
    {
      provide: FLEET_MANAGER,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) =>
        new FleetManager(
          new LocalFleetDriver({
            root: ROOT,
            profiles: profilesOf(runtime.config.fleetProfilesFile),
          }),
        ),
    },
    Reconciler,
  ],
})
export class RolloutModule {}
