/**
 * The envelope every Rollgate event travels in, on Kafka and in the embedded log.
 * `data` is validated against the JSON Schema of its (type, version).
 */
export interface EventEnvelope<TData = unknown, TType extends string = string> {
  /** UUIDv7: unique, and sortable by creation time. */
  id: string;
  type: TType;
  /** Schema version of `data` for this type; starts at 1. */
  version: number;
  /** ISO-8601 UTC instant the fact happened. Folds read time from here, never from a clock. */
  occurredAt: string;
  /** Who caused it: a token subject (`user:alice`) or a service (`service:orchestrator`). */
  actor: string;
  /** The release, flag or migration id this event belongs to. */
  correlationId: string;
  /** Id of the event or request that caused this one; null for a person's direct action. */
  causationId: string | null;
  /** Partition key: the service name (flags: the flag's project/key). Keeps one key's events in order. */
  key: string;
  /** Position in its aggregate stream (1-based), when written by an event-sourced command handler. */
  sequence?: number;
  data: TData;
}

/** What a producer supplies; id and occurredAt are filled in when omitted. */
export type NewEvent<TData = unknown> = Omit<EventEnvelope<TData>, 'id' | 'occurredAt'> &
  Partial<Pick<EventEnvelope<TData>, 'id' | 'occurredAt'>>;

export const ENVELOPE_FIELDS = [
  'id',
  'type',
  'version',
  'occurredAt',
  'actor',
  'correlationId',
  'causationId',
  'key',
  'sequence',
  'data',
] as const;
