import { Module, type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestMicroservice, type CustomStrategy } from '@nestjs/microservices';
import type { Projection } from '@rollgate/persistence';
import type { ServiceRuntime } from '../runtime/service-runtime';
import { EventHandlerTable, RethrowEventHandlerErrors } from './event-handler-table';
import { EventLogServer } from './event-log.server';

/**
 * Connects the event-log transport to a service app (a hybrid app) and starts its consumers.
 * Call it after `app.init()`: handlers may use what providers made in onModuleInit (a data
 * plane), so no event is handled before the app is initialised.
 */
export async function startEventLogTransport(
  app: INestApplication,
  runtime: ServiceRuntime,
): Promise<INestMicroservice> {
  // Deferred so the error filter is in place before Nest builds the handlers; the app already
  // ran the lifecycle hooks, the microservice must not run them a second time.
  const microservice = app.connectMicroservice<CustomStrategy>(
    { strategy: new EventLogServer(runtime) },
    { deferInitialization: true },
  );
  microservice.useGlobalFilters(new RethrowEventHandlerErrors());
  if (microservice instanceof NestMicroservice) microservice.setIsInitHookCalled(true);
  await app.startAllMicroservices();
  return microservice;
}

@Module({})
class EventHandlersModule {}

async function handlerMicroservice(
  handlers: Type[],
  strategy: EventHandlerTable,
): Promise<INestMicroservice> {
  const microservice = await NestFactory.createMicroservice<CustomStrategy>(
    { module: EventHandlersModule, controllers: handlers },
    { strategy, logger: ['error', 'warn'] },
  );
  microservice.useGlobalFilters(new RethrowEventHandlerErrors());
  await microservice.listen();
  return microservice;
}

/**
 * Read models of handler classes without dependencies, fed from the log by a microservice with
 * no HTTP app (tools and tests). Close it to stop its consumers.
 */
export function startReadModels(
  runtime: ServiceRuntime,
  handlers: Type[],
): Promise<INestMicroservice> {
  return handlerMicroservice(handlers, new EventLogServer(runtime));
}

/**
 * The same handlers as Projections, without consuming anything: an offline rebuild applies them
 * itself, batch by batch. `close` releases the Nest context that built them.
 */
export async function readModelsOf(
  handlers: Type[],
): Promise<{ readModels: Projection[]; close: () => Promise<void> }> {
  const table = new EventHandlerTable();
  const microservice = await handlerMicroservice(handlers, table);
  return { readModels: table.readModels(), close: () => microservice.close() };
}
