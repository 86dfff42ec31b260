import {
  EventValidationError,
  type EventCatalog,
  type EventEnvelope,
  type NewEvent,
} from '@rollgate/contracts';
import { partitionForKey } from './partitioner';
import { MalformedEventError, type LogPosition, type LoggedEvent } from './port';

export const HEADERS = {
  type: 'event-type',
  version: 'event-version',
  id: 'event-id',
  correlationId: 'correlation-id',
  dlqReason: 'dlq-reason',
  dlqSource: 'dlq-source',
} as const;

/** An event ready to write: validated, serialized, with its partition chosen. */
export interface EncodedMessage {
  event: EventEnvelope;
  topic: string;
  partition: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Validates and serializes a batch before anything is written, so a bad event
 * refuses the whole append with an error naming the field.
 */
export function encodeEvents(
  catalog: EventCatalog,
  events: readonly NewEvent[],
  partitionsOf: (topic: string) => number,
): EncodedMessage[] {
  return events.map((input) => {
    const event = catalog.create(input);
    const definition = catalog.definition(event.type, event.version)!;
    const topic = definition.topic.name;
    return {
      event,
      topic,
      partition: partitionForKey(event.key, partitionsOf(topic)),
      key: event.key,
      value: catalog.encode(event),
      headers: {
        [HEADERS.type]: event.type,
        [HEADERS.version]: String(event.version),
        [HEADERS.id]: event.id,
        [HEADERS.correlationId]: event.correlationId,
      },
    };
  });
}

/** Decodes one stored message, or explains why it is not a valid event. */
export function decodeMessage(
  catalog: EventCatalog,
  position: LogPosition,
  value: string | Buffer | null,
  headers: Record<string, string>,
): LoggedEvent | MalformedEventError {
  if (value === null) return new MalformedEventError(position, 'empty message');
  try {
    return { event: catalog.decode(value), position, headers };
  } catch (error) {
    const reason =
      error instanceof EventValidationError
        ? error.message
        : error instanceof SyntaxError
          ? `not JSON: ${error.message}`
          : String(error);
    return new MalformedEventError(position, reason);
  }
}

export function describePosition(position: LogPosition): string {
  return `${position.topic}[${position.partition}]@${position.offset}`;
}
