import {
  DEAD_LETTER_HEADERS,
  EventValidationError,
  eventHeaders,
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
  const messages: EncodedMessage[] = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = catalog.create(events[i]!);
    const topic = catalog.definition(event.type, event.version)!.topic.name;
    messages[i] = {
      event,
      topic,
      partition: partitionForKey(event.key, partitionsOf(topic)),
      key: event.key,
      value: catalog.encode(event),
      headers: eventHeaders(event),
    };
  }
  return messages;
}

/** Decodes one stored value (JSON, contract, upcast), or explains why it is not a valid event. */
export function decodeEvent(
  catalog: EventCatalog,
  position: LogPosition,
  value: string | Buffer | null,
): EventEnvelope | MalformedEventError {
  if (value === null) return new MalformedEventError(position, 'empty message');
  try {
    return catalog.decode(value);
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

/** Decodes one stored message with headers already read. */
export function decodeMessage(
  catalog: EventCatalog,
  position: LogPosition,
  value: string | Buffer | null,
  headers: Record<string, string>,
): LoggedEvent | MalformedEventError {
  const event = decodeEvent(catalog, position, value);
  return event instanceof MalformedEventError ? event : { event, position, headers };
}

/**
 * A logged event whose headers are turned into strings on first read: most consumers never look
 * at them, and decoding every header Buffer of every message costs about as much as validating
 * the event. The getter lives on the prototype, so no closure is allocated per message.
 */
export class LazyHeadersEvent<TRaw> implements LoggedEvent {
  // Private fields are not own properties: equality checks see event, position and headers only.
  #headers: Record<string, string> | undefined;
  readonly #raw: TRaw;
  readonly #read: (raw: TRaw) => Record<string, string>;

  constructor(
    readonly event: EventEnvelope,
    readonly position: LogPosition,
    raw: TRaw,
    read: (raw: TRaw) => Record<string, string>,
  ) {
    this.#raw = raw;
    this.#read = read;
  }

  get headers(): Record<string, string> {
    return (this.#headers ??= this.#read(this.#raw));
  }

  /** JSON output (audit dumps, logs) shows the headers as before. */
  toJSON(): { event: EventEnvelope; position: LogPosition; headers: Record<string, string> } {
    return { event: this.event, position: this.position, headers: this.headers };
  }
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
