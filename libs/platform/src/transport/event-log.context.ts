import { BaseRpcContext } from '@nestjs/microservices';
import type { EntityManager } from 'typeorm';
import type { LoggedEvent, LogPosition } from '@rollgate/event-log';

/**
 * `@Ctx()` of an event-log handler. The manager is the read model's transaction: what a
 * handler writes with it commits together with the read model's checkpoint, or not at all.
 */
export class EventLogContext extends BaseRpcContext<[LoggedEvent, EntityManager, string]> {
  getManager(): EntityManager {
    return this.args[1];
  }

  getPosition(): LogPosition {
    return this.args[0].position;
  }

  /** The message headers as stored (event-type, traceparent, ...). */
  getHeaders(): Record<string, string> {
    return this.args[0].headers;
  }

  getReadModel(): string {
    return this.args[2];
  }
}
