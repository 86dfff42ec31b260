import {
  Controller,
  Get,
  Inject,
  Injectable,
  Logger,
  Module,
  NotFoundException,
  Param,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { USER_STICKY_HEADER } from '@rollgate/contracts';
import {
  defaultDataPlaneRegistry,
  EmbeddedProxyDataPlane,
  HAPROXY_KIND,
  type DataPlane,
  type HaproxyOptions,
  type RouteTable,
} from '@rollgate/data-planes';
import { prng, SimulatedUsers, simulatedSettingsFrom } from '@rollgate/fleet';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { RouteEntity } from './route.entity';
import { CURRENT_DATA_PLANE, RouteRequestHandler } from './route-request.handler';

/** Room for a blue-green switch (two full sets) or a canary step of a service with 7 replicas. */
const HAPROXY_SLOTS_PER_SERVICE = 16;

/** Owns the data plane of this router process (RouteRequestHandler feeds it from the log). */
@Injectable()
export class DataPlaneHolder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('router');
  private current: DataPlane | undefined;
  private users: SimulatedUsers | undefined;

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {}

  get dataPlane(): DataPlane {
    if (!this.current) throw new Error('the data plane is not started');
    return this.current;
  }

  async onModuleInit(): Promise<void> {
    const { dataPlane: kind, haproxyServices } = this.runtime.config;
    // HAProxy writes one frontend per service into its config at start; the embedded proxy
    // opens listeners as routes arrive.
    const options: HaproxyOptions | object =
      kind === HAPROXY_KIND
        ? {
            services: haproxyServices.map(({ service, port }) => ({
              service,
              port,
              slots: HAPROXY_SLOTS_PER_SERVICE,
              stickyHeader: USER_STICKY_HEADER,
            })),
          }
        : {};
    this.current = await defaultDataPlaneRegistry().create(kind, options);
    // The data plane forgets everything when the process stops: restore the confirmed routes.
    const routes = await this.runtime.dataSource.manager.find(RouteEntity);
    for (const route of routes) {
      await this.current
        .apply(JSON.parse(route.route) as RouteTable)
        .catch((error: unknown) =>
          this.logger.warn(`could not restore route of ${route.service}: ${String(error)}`),
        );
    }
    this.startSimulatedUsers(this.current);
  }

  /**
   * ROLLGATE_FLEET=simulated (scale tests only): the simulated users' requests go through this
   * data plane's routes and counters (libs/fleet/src/simulated/simulated-users.ts).
   */
  private startSimulatedUsers(dataPlane: DataPlane): void {
    const { fleet, analysis } = this.runtime.config;
    if (fleet !== 'simulated' || !(dataPlane instanceof EmbeddedProxyDataPlane)) return;
    const { usersPerSecond, seed } = simulatedSettingsFrom(process.env, analysis.metricSource);
    if (usersPerSecond === 0) return;
    this.logger.warn(
      `ROLLGATE_FLEET=simulated (scale tests only): ${usersPerSecond} simulated user req/s per service with a canary or baseline share`,
    );
    this.users = new SimulatedUsers(
      dataPlane,
      usersPerSecond,
      seed === undefined ? Math.random : prng(seed),
    );
    this.users.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.users?.close();
    await this.current?.close();
  }
}

@ApiTags('routes')
@Controller('routes')
export class RoutesController {
  constructor(
    private readonly holder: DataPlaneHolder,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  @Get(':service')
  @ApiOperation({
    summary: 'The route a data plane confirms for a service right now, and where to send requests',
  })
  async route(@Param('service') service: string) {
    const applied = await this.holder.dataPlane.current(service);
    if (!applied) throw new NotFoundException(`no route for service ${service}`);
    const row = await this.runtime.dataSource.manager.findOneBy(RouteEntity, { service });
    return { ...applied, requestId: row?.requestId ?? null, appliedAt: row?.appliedAt ?? null };
  }

  @Get(':service/stats')
  @ApiOperation({
    summary:
      'Cumulative requests, errors and (embedded proxy only) latency histograms per version group',
  })
  async stats(@Param('service') service: string) {
    const dataPlane = this.holder.dataPlane;
    if (!dataPlane.stats) {
      throw new NotFoundException(`the ${dataPlane.kind} data plane does not count traffic`);
    }
    const stats = await dataPlane.stats(service);
    if (!stats) throw new NotFoundException(`no traffic statistics for service ${service}`);
    return stats;
  }
}

@Module({
  controllers: [RoutesController, RouteRequestHandler],
  providers: [DataPlaneHolder, { provide: CURRENT_DATA_PLANE, useExisting: DataPlaneHolder }],
})
export class RoutingModule {}
