import { Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TOPICS, type NewEvent } from '@rollgate/contracts';
import { HealthChecks } from '../health/health-checks';
import { openTestRuntime } from '../testing/test-runtime';
import { RuntimeModule } from './runtime.module';

/** A handler that takes a while, and records whether it was running at a given moment. */
class SlowProjection {
  readonly name = 'slow';
  readonly topics = [TOPICS.releases.name];
  running = false;
  started = false;

  async apply(): Promise<void> {
    this.running = true;
    this.started = true;
    await new Promise((r) => setTimeout(r, 300));
    this.running = false;
  }
}

const projection = new SlowProjection();
const seenAtShutdown: boolean[] = [];

/** Stands in for the router's data plane: what consumers use, closed on shutdown. */
@Injectable()
class DataPlaneLike implements OnApplicationShutdown {
  onApplicationShutdown(): void {
    seenAtShutdown.push(projection.running);
  }
}

const requested: NewEvent = {
  type: 'ReleaseRequested',
  version: 1,
  key: 'checkout',
  actor: 'user:test',
  correlationId: 'rel-1',
  causationId: null,
  data: {
    releaseId: 'rel-1',
    service: 'checkout',
    artifact: { name: 'checkout', digest: `sha256:${'a'.repeat(64)}` },
    strategy: 'canary',
  },
};

/** In an app, the HTTP module provides the health registry globally. */
@Global()
@Module({ providers: [HealthChecks], exports: [HealthChecks] })
class HealthLike {}

describe('RuntimeModule shutdown', () => {
  it('stops consumers before other providers close what their handlers use', async () => {
    const runtime = await openTestRuntime('router', {
      entities: [],
      migrations: [],
      projections: [projection],
    });
    @Module({
      imports: [HealthLike, RuntimeModule.forRoot(runtime)],
      providers: [DataPlaneLike],
    })
    class AppLike {}
    const app = await NestFactory.create(AppLike, { logger: false });
    app.enableShutdownHooks();
    await app.init();

    try {
      await runtime.log.append([requested]);
      for (let i = 0; i < 100 && !projection.started; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(projection.running).toBe(true);
    } finally {
      await app.close();
    }

    expect(seenAtShutdown).toEqual([false]);
  });
});
