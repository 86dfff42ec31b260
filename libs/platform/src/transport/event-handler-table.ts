import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom, throwError, type Observable } from 'rxjs';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '@rollgate/contracts';
import type { LoggedEvent } from '@rollgate/event-log';
import type { Projection } from '@rollgate/persistence';
import { EventLogContext } from './event-log.context';
import { topicOfEventType, type EventLogPattern } from './event-patterns';

/**
 * Handlers of the event-log transport fail with their own error: the read model's transaction
 * rolls back and the subscription retries, then reports that error (Nest's default filter
 * would swallow it into "Internal server error").
 */
@Catch()
export class RethrowEventHandlerErrors implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

function patternOf(route: string): EventLogPattern {
  let parsed: unknown;
  try {
    parsed = JSON.parse(route);
  } catch {
    parsed = undefined;
  }
  const pattern = parsed as Partial<EventLogPattern> | undefined;
  if (typeof pattern?.readModel !== 'string' || typeof pattern.type !== 'string') {
    throw new Error(
      `event-log handler pattern ${route} is not readModelEvents(readModel, ...types)`,
    );
  }
  return { readModel: pattern.readModel, type: pattern.type };
}

/**
 * The Nest handlers registered on this transport (`@EventPattern(readModelEvents(...))`), grouped
 * into read models. On its own it only builds that table (for an offline rebuild, which applies
 * the read models itself); EventLogServer also feeds them from the log.
 */
export class EventHandlerTable extends Server implements CustomTransportStrategy {
  listen(callback: (error?: unknown) => void): void {
    callback();
  }

  close(): void {}

  on(): never {
    throw new Error('the event-log transport has no server events');
  }

  unwrap<T>(): T {
    throw new Error('the event-log transport wraps no client of its own');
  }

  /** One Projection per read model, with its topics derived from its event types. */
  readModels(): Projection[] {
    const byReadModel = new Map<string, Map<string, MessageHandler>>();
    for (const [route, handler] of this.messageHandlers) {
      const { readModel, type } = patternOf(route);
      if (!handler.isEventHandler) {
        throw new Error(
          `${readModel}: the event log carries events, use @EventPattern for ${type}`,
        );
      }
      if (handler.next) {
        throw new Error(`${readModel} has two handlers for ${type}: their order would be unknown`);
      }
      const handlers = byReadModel.get(readModel) ?? new Map<string, MessageHandler>();
      byReadModel.set(readModel, handlers.set(type, handler));
    }
    return [...byReadModel].map(([name, handlers]) => ({
      name,
      topics: [...new Set([...handlers.keys()].map(topicOfEventType))].sort(),
      apply: (manager: EntityManager, event: EventEnvelope, logged: LoggedEvent) =>
        dispatch(handlers.get(event.type), event, new EventLogContext([logged, manager, name])),
    }));
  }
}

/** Calls a handler and waits for it to finish; events of a type it does not handle are skipped. */
async function dispatch(
  handler: MessageHandler | undefined,
  event: EventEnvelope,
  context: EventLogContext,
): Promise<void> {
  if (!handler) return;
  const result: unknown = await handler(event, context);
  if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
}
