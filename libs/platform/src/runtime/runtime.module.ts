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
import { HealthChecks } from '../health/health-checks';
import { ReadYourWritesInterceptor } from './read-your-writes.interceptor';
import { SERVICE_RUNTIME, type ServiceRuntime } from './service-runtime';

/** How often consumer lag is measured (end offsets and checkpoints): the resolution of its age. */
const LAG_SAMPLE_MS = 1000;

/**
 * The runtime of a service app: starts the outbox relay with the app and reports the consumers
 * in /health. The consumers themselves are the event-log transport's (startEventLogTransport).
 * A crashed consumer is fatal: /health turns 503 and stays so until the process restarts.
 */
@Module({})
export class RuntimeModule
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger: Logger;
  private lagTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    private readonly checks: HealthChecks,
  ) {
    this.logger = new Logger(`${runtime.service}-runtime`);
  }

  /**
   * Consumer lag is sampled in the background, so /health answers from the last sample (the
   * transport takes one more when its consumers start).
   */
  private async sampleLag(): Promise<void> {
    let running = false;
    // One sample at a time: a slow broker must not pile samples up.
    const sample = async () => {
      if (running) return;
      running = true;
      await this.runtime.lag
        .sample()
        .catch((error: unknown) => this.logger.debug(`lag sample failed: ${String(error)}`))
        .finally(() => (running = false));
    };
    this.lagTimer = setInterval(() => void sample(), LAG_SAMPLE_MS);
    this.lagTimer.unref();
    await sample();
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
    await this.sampleLag();
    this.checks.register('event-log', async () => {
      const subscriptions = this.runtime.consumers();
      const states = subscriptions.map((s) => s.state());
      const consumers = Object.fromEntries(
        subscriptions.map((s) => [
          s.groupId,
          s.state() === 'crashed' ? `crashed: ${s.crashError()?.message}` : s.state(),
        ]),
      );
      const up = states.every((state) => state === 'running' || state === 'starting');
      const lag = this.runtime.lag.current();
      const maxLag = this.runtime.config.healthMaxLag;
      const condition = states.includes('starting')
        ? 'starting'
        : Object.values(lag).some((l) => l.events > maxLag)
          ? 'degraded'
          : undefined;
      return {
        up,
        ...(condition ? { condition } : {}),
        detail: {
          consumers,
          lag,
          maxLag,
          outboxPending: await this.runtime.relay.pending(),
          // Which partitions each loop drives here (ADR 0015), by owners group.
          ownership: Object.fromEntries([...this.runtime.claims].map(([g, owned]) => [g, owned()])),
        },
      };
    });
  }

  /**
   * Consumers stop first, before any provider closes what their handlers use (the router's data
   * plane, the fleet): a handler running against a closing data plane would report a route as
   * failed and roll back a healthy release just because the process was stopping.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.lagTimer);
    await this.runtime.stopConsumers();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
