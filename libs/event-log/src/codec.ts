import {
  DEAD_LETTER_HEADERS,
  EventValidationError,
  KAFKA_HEADERS,
  type EventCatalog,
  type EventEnvelope,
  type NewEvent,
} from '@rollgate/contracts';
import { partitionForKey } from './partitioner';
import { MalformedEventError, type LogPosition, type LoggedEvent } from './port';

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
        [KAFKA_HEADERS.eventType]: event.type,
        [KAFKA_HEADERS.eventVersion]: String(event.version),
        [KAFKA_HEADERS.eventId]: event.id,
        [KAFKA_HEADERS.correlationId]: event.correlationId,
      },
    };
  });
}

/** Decodes one stored message, or explains why it is not a valid event. */
export function decodeMessage(
  catalog: EventCatalog,
  position: LogPosition,
  value: string | Buffer | null,
  headers: Record<string, string> | (() => Record<string, string>),
): LoggedEvent | MalformedEventError {
  if (value === null) return new MalformedEventError(position, 'empty message');
  try {
    const event = catalog.decode(value);
    if (typeof headers !== 'function') return { event, position, headers };
    return withLazyHeaders({ event, position }, headers);
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

/**
 * Headers decoded on first read: most consumers never look at them, and turning every header
 * Buffer into a string for every message costs more than validating the event.
 */
function withLazyHeaders(
  logged: Omit<LoggedEvent, 'headers'>,
  read: () => Record<string, string>,
): LoggedEvent {
  let cached: Record<string, string> | undefined;
  // An accessor in a literal shares one hidden class; defineProperty on each object does not.
  return {
    event: logged.event,
    position: logged.position,
    get headers() {
      return (cached ??= read());
    },
  };
}

/** Headers of a dead letter: the original ones plus why and from where. */
export function deadLetterHeaders(
  error: MalformedEventError,
  original: Record<string, string>,
): Record<string, string> {
  const { topic, partition, offset } = error.position;
  return {
    ...original,
    [DEAD_LETTER_HEADERS.reason]: error.reason,
    [DEAD_LETTER_HEADERS.source]: `${topic}:${partition}:${offset}`,
  };
}
