import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  AgentFleetDriver,
  LocalFleetDriver,
  SimulatedFleetDriver,
  simulatedSettingsFrom,
  type BuildProfile,
  type FleetDriver,
} from '@rollgate/fleet';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { FleetController } from './fleet.controller';
import { FLEET_MANAGER, FleetManager } from './fleet-manager';
import { ServicesController } from './services.controller';

/** Workspace root: the local fleet runs apps/sample-service from here. */
const ROOT = resolve(__dirname, '../../../..');

function profilesOf(file: string | undefined): Map<string, BuildProfile> {
  if (!file) return new Map();
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, BuildProfile>;
  return new Map(Object.entries(parsed));
}

/** The driver ROLLGATE_FLEET names (README: fleet drivers). */
function fleetDriverFor(runtime: ServiceRuntime): FleetDriver {
  const profiles = profilesOf(runtime.config.fleetProfilesFile);
  switch (runtime.config.fleet) {
    case 'local':
      return new LocalFleetDriver({ root: ROOT, profiles });
    case 'agents':
      // Instances run where `rollgate agent` runs; behaviour profiles are the agents' (ADR 0016).
      return new AgentFleetDriver({ log: runtime.log, actor: 'service:orchestrator' });
    case 'simulated': {
      // Scale tests only: in-process instances, synthesised traffic (libs/fleet/src/simulated).
      const settings = simulatedSettingsFrom(process.env, runtime.config.analysis.metricSource);
      new Logger('SimulatedFleet').warn(
        `ROLLGATE_FLEET=simulated (scale tests only): in-process instances, ${settings.rps} synthesised req/s per instance (the router runs the simulated users)`,
      );
      return new SimulatedFleetDriver({
        profiles,
        rps: settings.rps,
        ...(settings.seed !== undefined && { seed: settings.seed }),
      });
    }
    default:
      throw new Error(`ROLLGATE_FLEET=${runtime.config.fleet} is not built yet`);
  }
}

/** The fleet and its views (what runs where); always there, even when nothing drives releases. */
@Module({
  controllers: [FleetController, ServicesController],
  providers: [
    {
      provide: FLEET_MANAGER,
      inject: [SERVICE_RUNTIME],
      useFactory: (runtime: ServiceRuntime) => new FleetManager(fleetDriverFor(runtime)),
    },
  ],
  exports: [FLEET_MANAGER],
})
export class FleetModule implements OnApplicationShutdown {
  constructor(@Inject(FLEET_MANAGER) private readonly fleet: FleetManager) {}

  async onApplicationShutdown(): Promise<void> {
    await this.fleet.driver.close();
  }
}
