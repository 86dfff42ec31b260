import { Controller, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import type { NewEvent } from '@rollgate/contracts';
import { HealthChecks } from '../health/health-checks';
import { openTestRuntime } from '../testing/test-runtime';
import { readModelEvents } from '../transport/event-patterns';
import { startEventLogTransport } from '../transport/event-log.transport';
import { RuntimeModule } from './runtime.module';

/** Whether the slow handler was running, and whether it ever started. */
const projection = { running: false, started: false };
const seenAtShutdown: boolean[] = [];

/** A handler that takes a while, and records whether it was running at a given moment. */
@Controller()
class SlowHandler {
  @EventPattern(readModelEvents('slow', 'ReleaseRequested'))
  async requested(): Promise<void> {
    projection.running = true;
    projection.started = true;
    await new Promise((r) => setTimeout(r, 300));
    projection.running = false;
  }
}

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
      readModels: [],
    });
    @Module({
      imports: [HealthLike, RuntimeModule.forRoot(runtime)],
      controllers: [SlowHandler],
      providers: [DataPlaneLike],
    })
    class AppLike {}
    const app = await NestFactory.create(AppLike, { logger: false });
    app.enableShutdownHooks();
    await app.init();
    await startEventLogTransport(app, runtime);

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
