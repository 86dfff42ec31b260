import { Controller, Get, Inject, Query } from '@nestjs/common';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { assertRunsTheFleet, FLEET_MANAGER, FleetManager } from './fleet-manager';

/**
 * What each live instance says it runs, flags included: the flags service's enablement guard
 * asks here before a flag is turned on (the "7 of 8 servers" check).
 */
@ApiTags('fleet')
@Controller('fleet')
export class FleetController {
  constructor(
    @Inject(FLEET_MANAGER) private readonly fleet: FleetManager,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  @Get('instances')
  @ApiQuery({ name: 'service', required: false })
  @ApiOperation({
    summary: 'Live instances and the build (version, digest, flags) each reports',
    description:
      'fleetStartedAt: when this fleet began (its process started); a route confirmed earlier names instances that are gone.',
  })
  async instances(@Query('service') service?: string) {
    assertRunsTheFleet(this.runtime.config);
    const observed = await this.fleet.driver.observe(service || undefined);
    return {
      fleetStartedAt: this.fleet.startedAt,
      instances: observed.map((instance) => ({
        id: instance.id,
        service: instance.service,
        group: instance.group,
        intended: instance.intended,
        healthy: instance.healthy,
        reported: instance.reported,
      })),
    };
  }
}
