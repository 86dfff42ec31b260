import type { EventEnvelope } from './envelope';

/**
 * Kafka record headers every event carries, so brokers and tools can route and trace
 * without parsing the payload (invariant 1: trace context travels in the headers).
 * The `ce_*` ones and `content-type` are the CloudEvents 1.0 Kafka protocol binding in binary
 * mode: the record value (our JSON envelope) is the CloudEvent's data, so a CloudEvents SDK reads
 * every event as it is, and our own consumers keep reading the envelope.
 */
export const KAFKA_HEADERS = {
  eventType: 'event-type',
  eventVersion: 'event-version',
  eventId: 'event-id',
  correlationId: 'correlation-id',
  /** W3C trace context of the producing span. */
  traceparent: 'traceparent',
  ceSpecVersion: 'ce_specversion',
  ceId: 'ce_id',
  ceSource: 'ce_source',
  ceType: 'ce_type',
  ceTime: 'ce_time',
  ceSubject: 'ce_subject',
  ceDataSchema: 'ce_dataschema',
  contentType: 'content-type',
  /** CloudEvents extension attributes: lowercase letters and digits only, by the spec. */
  ceCorrelationId: 'ce_correlationid',
  ceCausationId: 'ce_causationid',
} as const;

/** Headers added to a dead-lettered record: why it was moved, and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  /** `topic:partition:offset` of the original record. */
  source: 'dlq-source',
} as const;

export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** Prefix of every CloudEvents `type`: `rollgate.ReleaseRequested`. */
export const CLOUDEVENT_TYPE_PREFIX = 'rollgate.';

type CloudEventFields = Pick<
  EventEnvelope,
  'type' | 'version' | 'id' | 'occurredAt' | 'correlationId' | 'causationId' | 'key'
>;

/**
 * CloudEvents `source`: the Rollgate stream of one record key (a service, or a flag project).
 * Events of one source are in order, as their records share a partition.
 */
export const cloudEventSource = (key: string): string => `/rollgate/${encodeURIComponent(key)}`;

/** CloudEvents `dataschema`: names the (type, version), i.e. the AsyncAPI message component. */
export const cloudEventDataSchema = (type: string, version: number): string =>
  `urn:rollgate:event:${type}.v${version}`;

/** The headers every event's record carries (trace context is added by the producer's span). */
export function eventHeaders(event: CloudEventFields): Record<string, string> {
  const headers: Record<string, string> = {
    [KAFKA_HEADERS.eventType]: event.type,
    [KAFKA_HEADERS.eventVersion]: String(event.version),
    [KAFKA_HEADERS.eventId]: event.id,
    [KAFKA_HEADERS.correlationId]: event.correlationId,
    [KAFKA_HEADERS.ceSpecVersion]: CLOUDEVENTS_SPEC_VERSION,
    [KAFKA_HEADERS.ceId]: event.id,
    [KAFKA_HEADERS.ceSource]: cloudEventSource(event.key),
    [KAFKA_HEADERS.ceType]: CLOUDEVENT_TYPE_PREFIX + event.type,
    [KAFKA_HEADERS.ceTime]: event.occurredAt,
    // The release, flag or migration the event is about.
    [KAFKA_HEADERS.ceSubject]: event.correlationId,
    [KAFKA_HEADERS.ceDataSchema]: cloudEventDataSchema(event.type, event.version),
    [KAFKA_HEADERS.contentType]: 'application/json',
    [KAFKA_HEADERS.ceCorrelationId]: event.correlationId,
  };
  // CloudEvents attributes have no null: a person's direct action has no causation attribute.
  if (event.causationId !== null) headers[KAFKA_HEADERS.ceCausationId] = event.causationId;
  return headers;
}
