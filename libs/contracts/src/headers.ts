import type { EventEnvelope } from './envelope';

/**
 * Kafka record headers every event carries, so brokers and tools can route and trace
 * without parsing the payload (invariant 1: trace context travels in the headers).
 */
export const KAFKA_HEADERS = {
  eventType: 'event-type',
  eventVersion: 'event-version',
  eventId: 'event-id',
  correlationId: 'correlation-id',
  /** W3C trace context of the producing span. */
  traceparent: 'traceparent',
} as const;

/** Headers added to a dead-lettered record: why it was moved, and where it came from. */
export const DEAD_LETTER_HEADERS = {
  reason: 'dlq-reason',
  /** `topic:partition:offset` of the original record. */
  source: 'dlq-source',
} as const;

/** The headers every event's record carries (trace context is added by the producer's span). */
export function eventHeaders(
  event: Pick<EventEnvelope, 'type' | 'version' | 'id' | 'correlationId'>,
): Record<string, string> {
  return {
    [KAFKA_HEADERS.eventType]: event.type,
    [KAFKA_HEADERS.eventVersion]: String(event.version),
    [KAFKA_HEADERS.eventId]: event.id,
    [KAFKA_HEADERS.correlationId]: event.correlationId,
  };
}
