import type { EventEnvelope, NewEvent, TopicDefinition } from '@rollgate/contracts';

/** Where an event sits in the log. Offsets are per (topic, partition), starting at 0. */
export interface LogPosition {
  topic: string;
  partition: number;
  offset: number;
}

export interface LoggedEvent {
  event: EventEnvelope;
  position: LogPosition;
  /** Message headers as stored (event-type, event-version, traceparent, ...). */
  headers: Record<string, string>;
}

/** One partition's events, in log order. */
export type EventBatchHandler = (batch: LoggedEvent[]) => Promise<void>;

export interface RetryOptions {
  /** How many times a failing batch is retried before the consumer crashes. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, initialDelayMs: 300, maxDelayMs: 10_000 };

export interface SubscribeOptions {
  /** Consumer group: members share the partitions; positions are committed per group. */
  groupId: string;
  topics: string[];
  /** Where a group with no committed position starts. Default: the beginning (the log is the truth). */
  fromBeginning?: boolean;
  /** Called with each batch; positions are committed only after it resolves. */
  handle: EventBatchHandler;
  retry?: Partial<RetryOptions>;
  /**
   * Where to resume a partition when this member gets it. When given it is authoritative (a
   * read model that stores its checkpoint with its rows); undefined means from the beginning.
   */
  positionOf?: (topic: string, partition: number) => Promise<number | undefined>;
  /** Called once when the consumer gives up (retries exhausted or a fatal client error). */
  onCrash?: (error: Error) => void;
  /**
   * A member that only holds partitions (work ownership): it reads nothing, so it costs the
   * broker no fetches and no commits, only its heartbeats. `handle` is never called.
   */
  holdOnly?: boolean;
  /** Called each time the group assigns this member its partitions (after every rebalance). */
  onAssigned?: (partitions: string[]) => void;
}

export type SubscriptionState = 'starting' | 'running' | 'crashed' | 'stopped';

export interface Subscription {
  readonly groupId: string;
  state(): SubscriptionState;
  /** The error that crashed the consumer, if it crashed. */
  crashError(): Error | undefined;
  /** Partitions this member owns now, as `topic:partition`. */
  assignedPartitions(): string[];
  /**
   * True from the moment the group takes this member's partitions back (a rebalance, or the
   * first join) until it assigns them again: it owns nothing now, but may get the same back.
   */
  rebalancing(): boolean;
  stop(): Promise<void>;
}

export interface ReadRangeOptions {
  topic: string;
  /** Default: every partition. */
  partitions?: number[];
  /** Inclusive, per partition. Default 0. */
  fromOffset?: number;
  /** Exclusive, per partition. Default: the end of the partition when the read starts. */
  toOffset?: number;
  /** `stop` (default) throws MalformedEventError; `skip` reports it and goes on. */
  onMalformed?: 'stop' | 'skip';
  /** Told about each malformed message, with its position, before skipping or stopping. */
  reportMalformed?: (error: MalformedEventError) => void;
}

/**
 * The release-event log: Kafka in production, an embedded on-disk log by default.
 * Both adapters pass the same contract suite (libs/event-log/src/testing/event-log.contract.ts).
 */
export interface EventLog {
  /** Creates the topics and their dead-letter topics if missing. Idempotent. */
  ensureTopics(topics: readonly TopicDefinition[]): Promise<void>;
  /**
   * Validates every event against its contract (nothing is written if one fails), then appends
   * them. Events with the same key keep their order. Resolves when the log has stored them.
   */
  append(events: readonly NewEvent[]): Promise<LoggedEvent[]>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Reads a range, for replay and audit. Positions are not committed anywhere. */
  readRange(options: ReadRangeOptions): AsyncIterable<LoggedEvent>;
  /** End offset (next offset to be written) of each partition of a topic. */
  endOffsets(topic: string): Promise<number[]>;
  close(): Promise<void>;
}

/** A message on the log that is not a valid event (bad JSON, unknown type, schema violation). */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  constructor(
    readonly position: LogPosition,
    readonly reason: string,
  ) {
    super(
      `malformed event at ${position.topic}[${position.partition}]@${position.offset}: ${reason}`,
    );
  }
}
