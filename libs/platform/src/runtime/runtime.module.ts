import {
  DynamicModule,
  Inject,
  Logger,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { EventStore } from '@rollgate/persistence';
import type { Subscription } from '@rollgate/event-log';
import { HealthChecks } from '../health/health-checks';
import { ReadYourWritesInterceptor } from './read-your-writes.interceptor';
import { SERVICE_RUNTIME, type ServiceRuntime } from './service-runtime';

/**
 * Our own Nest module around the event log (not the @nestjs/microservices transport): starts
 * the outbox relay and the projections with the app, and reports consumers in /health.
 * A crashed consumer is fatal: /health turns 503 and stays so until the process restarts.
 */
@Module({})
export class RuntimeModule
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger: Logger;
  private subscriptions: Subscription[] = [];

  constructor(
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    private readonly checks: HealthChecks,
  ) {
    this.logger = new Logger(`${runtime.service}-runtime`);
  }

  static forRoot(runtime: ServiceRuntime): DynamicModule {
    return {
      module: RuntimeModule,
      global: true,
      providers: [
        { provide: SERVICE_RUNTIME, useValue: runtime },
        { provide: EventStore, useValue: runtime.eventStore },
        { provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor },
      ],
      exports: [SERVICE_RUNTIME, EventStore],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.runtime.relay.start();
    this.subscriptions = await Promise.all(this.runtime.projections.map((p) => p.start()));
    this.checks.register('event-log', async () => {
      const consumers = Object.fromEntries(
        this.subscriptions.map((s) => [
          s.groupId,
          s.state() === 'crashed' ? `crashed: ${s.crashError()?.message}` : s.state(),
        ]),
      );
      const up = this.subscriptions.every(
        (s) => s.state() === 'running' || s.state() === 'starting',
      );
      return { up, detail: { consumers, outboxPending: await this.runtime.relay.pending() } };
    });
    for (const subscription of this.subscriptions) {
      this.logger.log(`consumer ${subscription.groupId} started`);
    }
  }

  /**
   * Consumers stop first, before any provider closes what their handlers use (the router's data
   * plane, the fleet): a handler running against a closing data plane would report a route as
   * failed and roll back a healthy release just because the process was stopping.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.runtime.projections.map((p) => p.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
