import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { fold } from '@rollgate/event-sourcing';
import { EventStore } from '@rollgate/persistence';
import { serviceReleases, serviceStreamId } from '@rollgate/releases';
import { FLEET_MANAGER, FleetManager } from './fleet-manager';

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
  ) {}

  @Get(':name')
  @ApiOperation({ summary: 'Stable build, active release and the live fleet of a service' })
  async service(@Param('name') name: string) {
    const state = fold(serviceReleases, await this.eventStore.load(serviceStreamId(name)));
    // A service never released is a valid question with an empty answer: nothing runs.
    const observed = await this.fleet.driver.observe(name);
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
