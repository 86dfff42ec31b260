import type { Consumer, IHeaders, KafkaMessage } from 'kafkajs';
import type { EventCatalog } from './catalog';
import type { EventType, LatestEvent } from './event-types';
import { KAFKA_HEADERS } from './headers';
import { eventCatalog } from './registry';

/** Where a delivered event came from, and the record as kafkajs gave it. */
export interface DeliveredRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** The record headers as strings: ours, and the CloudEvents `ce_*` attributes. */
  headers: Record<string, string>;
}

/** One handler per event type; each gets that type's event at its latest version. */
export type EventHandlers = {
  [K in EventType]?: (event: LatestEvent<K>, record: DeliveredRecord) => void | Promise<void>;
};

export interface SubscribeOptions {
  /** A connected kafkajs consumer: its group id decides where a restart resumes. */
  consumer: Consumer;
  handlers: EventHandlers;
  /** Topics to read; by default the topics of the handled types. */
  topics?: string[];
  /** Where a group without a committed offset starts: the log's beginning (default) or its end. */
  fromBeginning?: boolean;
  /**
   * A record of a handled type that is not a valid event (not JSON, fails its schema, a version
   * newer than this package knows). By default the error is thrown: kafkajs retries the record
   * and the partition does not move past it. Return instead to skip it.
   */
  onInvalid?: (error: Error, record: DeliveredRecord) => void | Promise<void>;
  /** The catalog to validate and upcast with; the published one by default. */
  catalog?: EventCatalog;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}

function typeOf(message: KafkaMessage): string | undefined {
  const header = message.headers?.[KAFKA_HEADERS.eventType];
  if (header !== undefined) return String(Array.isArray(header) ? header[0] : header);
  try {
    return (JSON.parse(message.value?.toString('utf8') ?? 'null') as { type?: string })?.type;
  } catch {
    return undefined; // not JSON: decoding reports it
  }
}

/**
 * Runs `consumer` over Rollgate topics: every record of a handled type is decoded, validated
 * against its JSON Schema and upcast to the latest version before its handler sees it; records of
 * other types (including types newer than this package) are skipped. Offsets are committed by
 * kafkajs after a handler returns: at-least-once, in order per key. Resolves once running.
 */
export async function subscribe(options: SubscribeOptions): Promise<void> {
  const { consumer, handlers, fromBeginning = true, onInvalid } = options;
  const catalog = options.catalog ?? eventCatalog;
  const handled = new Set(Object.keys(handlers));
  if (handled.size === 0) throw new Error('subscribe: handlers must name at least one event type');
  const topics =
    options.topics ??
    [
      ...new Set(
        catalog
          .all()
          .filter((d) => handled.has(d.type))
          .map((d) => d.topic.name),
      ),
    ].sort();
  if (topics.length === 0)
    throw new Error(`subscribe: no topic carries ${[...handled].join(', ')}`);
  await consumer.subscribe({ topics, fromBeginning });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const type = typeOf(message);
      if (type !== undefined && !handled.has(type)) return;
      const record = { topic, partition, message, headers: headersToStrings(message.headers) };
      let event: LatestEvent;
      try {
        if (message.value === null) throw new Error('empty record');
        event = catalog.decode(message.value) as LatestEvent;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const invalid = new Error(`${topic}:${partition}:${message.offset}: ${reason}`);
        if (!onInvalid) throw invalid;
        return onInvalid(invalid, record);
      }
      const handler = handlers[event.type] as
        ((event: LatestEvent, record: DeliveredRecord) => void | Promise<void>) | undefined;
      await handler?.(event, record);
    },
  });
}
