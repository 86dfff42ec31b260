import { Logger } from '@nestjs/common';
import type { ServiceRuntime } from '../runtime/service-runtime';
import { EventHandlerTable } from './event-handler-table';

/**
 * The Nest transport strategy over the event-log port (Kafka or the embedded log; ADR 0013).
 * Each read model is one consumer group; each batch of one partition is applied in one
 * transaction with the read model's checkpoint (ProjectionRunner), so a failed handler leaves
 * neither rows nor checkpoint behind. Retries, crash reporting and dead letters of malformed
 * messages are the port's.
 */
export class EventLogServer extends EventHandlerTable {
  constructor(private readonly runtime: ServiceRuntime) {
    super();
  }

  override listen(callback: (error?: unknown) => void): void {
    const start = async () => {
      for (const readModel of this.readModels()) this.runtime.addProjection(readModel);
      await this.runtime.startConsumers();
      const logger = new Logger(`${this.runtime.service}-runtime`);
      for (const consumer of this.runtime.consumers()) {
        logger.log(`consumer ${consumer.groupId} started`);
      }
    };
    start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  override async close(): Promise<void> {
    await this.runtime.stopConsumers();
  }

  override unwrap<T>(): T {
    return this.runtime.log as T;
  }
}
