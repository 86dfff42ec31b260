import { Controller, Get, Inject, Param, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { fold } from '@rollgate/event-sourcing';
import { EventStore } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { serviceReleases, serviceStreamId } from '@rollgate/releases';
import { assertRunsTheFleet, FLEET_MANAGER, FleetManager } from './fleet-manager';

/**
 * One service at a glance: its stable build, the release in flight, and what each live instance
 * says it runs — an instance whose reported build differs from the one it was started with is
 * marked as drifting (the "7 of 8 servers" case).
 */
@ApiTags('services')
@Controller('services')
export class ServicesController {
  constructor(
    @Inject(FLEET_MANAGER) private readonly fleet: FleetManager,
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  @Get(':name')
  @ApiOperation({ summary: 'Stable build, active release and the live fleet of a service' })
  async service(@Param('name') name: string) {
    assertRunsTheFleet(this.runtime.config);
    const state = fold(serviceReleases, await this.eventStore.load(serviceStreamId(name)));
    // A service never released is a valid question with an empty answer: nothing runs.
    const observed = await this.fleet.driver.observe(name);
    // A stable build always runs somewhere: no instance means the fleet is not restored yet
    // (just after a restart), and "nothing is live" would be a guess that gates act on.
    if (state.stable && observed.length === 0) {
      throw new ServiceUnavailableException(
        `the fleet of ${name} is not known yet (instances of its stable build are starting)`,
      );
    }
    return {
      service: name,
      stable: state.stable,
      activeRelease: state.active
        ? { id: state.active.releaseId, version: state.active.version, phase: state.active.phase }
        : null,
      releases: state.releaseIds.length,
      instances: observed.map((instance) => ({
        id: instance.id,
        group: instance.group,
        address: `${instance.host}:${instance.port}`,
        healthy: instance.healthy,
        intended: instance.intended,
        reported: instance.reported,
        drifting:
          instance.reported !== null && instance.reported.digest !== instance.intended.digest,
      })),
    };
  }
}
