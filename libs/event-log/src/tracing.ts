import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
} from '@opentelemetry/api';
import type { EncodedMessage } from './codec';
import type { LoggedEvent } from './port';

const tracer = trace.getTracer('@rollgate/event-log');

const headerGetter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};

/** Runs a write inside a PRODUCER span and puts its trace context into every message's headers. */
export async function withPublishSpan<T>(
  messages: EncodedMessage[],
  write: () => Promise<T>,
): Promise<T> {
  const topics = [...new Set(messages.map((m) => m.topic))].join(',');
  return tracer.startActiveSpan(
    `publish ${topics}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.destination.name': topics,
        'messaging.batch.message_count': messages.length,
      },
    },
    async (span) => {
      // One context for the whole batch: inject once, copy into each message (none without OTel).
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      if (Object.keys(carrier).length > 0)
        for (const message of messages) Object.assign(message.headers, carrier);
      try {
        return await write();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** The trace context the producer of this event was in. */
export function contextOf(logged: LoggedEvent): Context {
  return propagation.extract(context.active(), logged.headers, headerGetter);
}

/**
 * Runs the handling of one event inside a CONSUMER span whose parent is the producer's span,
 * so a trace that started at a REST call continues into the service that handles the event.
 */
export async function withEventSpan<T>(
  logged: LoggedEvent,
  handler: string,
  run: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(
    `process ${logged.event.type}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.destination.name': logged.position.topic,
        'messaging.message.id': logged.event.id,
        'rollgate.handler': handler,
        'rollgate.correlation_id': logged.event.correlationId,
      },
    },
    contextOf(logged),
    async (span) => {
      try {
        return await run();
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
