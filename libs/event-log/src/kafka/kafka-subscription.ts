import type { Consumer, EachBatchPayload, PartitionAssigner } from 'kafkajs';
import {
  MalformedEventError,
  type LoggedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionState,
} from '../port';
import { headersToStrings, type KafkaEventLog } from './kafka-event-log';
import { stickyAssigner, type TopicAssignment } from './sticky-assignment';

const MIRRORED_COMMIT_MS = 5_000;

/** One consumer-group member on Kafka. Commits only after the handler resolved. */
export class KafkaSubscription implements Subscription {
  readonly groupId: string;
  private current: SubscriptionState = 'starting';
  private error: Error | undefined;
  private assigned: string[] = [];
  /** Between a revocation (or the start) and the next assignment. */
  private revoked = true;
  /** The last assignment, kept through a rebalance: the sticky assigner keeps it where it can. */
  private held: TopicAssignment = {};
  private readonly consumer: Consumer;
  private onEnd: (() => void) | undefined;
  /** With `positionOf`: the offset each owned partition must continue from. */
  private readonly expected = new Map<string, number>();
  private seeking: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: KafkaEventLog,
    createConsumer: (assigner: PartitionAssigner) => Consumer,
    private readonly options: SubscribeOptions,
  ) {
    this.groupId = options.groupId;
    this.consumer = createConsumer(stickyAssigner(() => this.held));
  }

  async start(onEnd: () => void): Promise<void> {
    this.onEnd = onEnd;
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      // Running once it has joined its group: until then /health says "starting".
      if (this.current === 'starting') this.current = 'running';
      this.held = event.payload.memberAssignment;
      this.assigned = Object.entries(this.held).flatMap(([topic, partitions]) =>
        partitions.map((p) => `${topic}:${p}`),
      );
      this.revoked = false;
      // Paused for good (kafkajs keeps a topic's pause across assignments): fetches nothing.
      if (this.options.holdOnly) consumer.pause(this.options.topics.map((topic) => ({ topic })));
      this.options.onAssigned?.([...this.assigned]);
      if (this.options.positionOf) {
        this.seeking = this.seekToStoredPositions(event.payload.memberAssignment);
        // A failed seek fails the next batch (retried, then `crashed`); never unhandled meanwhile.
        this.seeking.catch(() => undefined);
      }
    });
    // A rebalance revokes every partition until the member joins again (eager protocol): from
    // now on it owns nothing, so no new work starts on a partition that may move.
    consumer.on(consumer.events.REBALANCING, () => {
      this.assigned = [];
      this.revoked = true;
    });
    // kafkajs stops a consumer on a non-retriable error without restarting (restartOnFailure
    // says no): the subscription becomes `crashed`, which /health reports.
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.current === 'stopped') return;
      this.current = 'crashed';
      this.assigned = [];
      this.revoked = false;
      this.error = event.payload.error;
      this.options.onCrash?.(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: this.options.topics,
      fromBeginning: this.options.fromBeginning ?? true,
    });
    const ownPositions = this.options.positionOf !== undefined;
    await consumer.run({
      // With `positionOf` the handler's store holds the positions, committed with its work, so
      // offsets committed to Kafka only mirror them for outside tools (lag exporters): every few
      // seconds rather than one broker round trip after every batch, which holds up the next fetch.
      autoCommit: !ownPositions,
      ...(ownPositions ? { autoCommitInterval: MIRRORED_COMMIT_MS } : {}),
      eachBatchAutoResolve: false,
      // Partitions are independent (order is per key, so per partition): while one batch is
      // handled, the next partitions' fetches are already in flight.
      partitionsConsumedConcurrently: 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  private async seekToStoredPositions(assignment: Record<string, number[]>): Promise<void> {
    this.expected.clear();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const offset = (await this.options.positionOf!(topic, partition)) ?? 0;
        // Stopped while the position was read (a shutdown right after joining): kafkajs has no
        // group left to seek in, and nothing will be fetched.
        if (this.current === 'stopped') return;
        this.expected.set(`${topic}:${partition}`, offset);
        this.consumer.seek({ topic, partition, offset: String(offset) });
      }
    }
  }

  private async handleBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    await this.seeking;
    // A member that only holds partitions: a fetch that started before its pause is dropped.
    if (this.options.holdOnly) return;
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const slot = `${batch.topic}:${batch.partition}`;
    const expected = this.expected.get(slot);
    // A batch fetched before the seek took effect: drop it, the seek refetches from `expected`.
    if (expected !== undefined && Number(batch.firstOffset()) > expected) return;
    const events: LoggedEvent[] = [];
    for (let i = 0; i < batch.messages.length; i++) {
      const decoded = this.log.decode(batch, i);
      if (decoded instanceof MalformedEventError) {
        const message = batch.messages[i]!;
        await this.log.deadLetter(
          decoded,
          message.key?.toString('utf8') ?? null,
          message.value,
          headersToStrings(message.headers),
        );
      } else {
        events.push(decoded);
      }
    }
    // Tell the coordinator we are alive before a possibly long handler (kafkajs throttles it).
    await heartbeat();
    // Throwing leaves the offsets unresolved: kafkajs retries the batch, then crashes.
    if (events.length > 0) await this.options.handle(events);
    resolveOffset(batch.lastOffset());
    if (expected !== undefined) this.expected.set(slot, Number(batch.lastOffset()) + 1);
    await commitOffsetsIfNecessary();
  }

  state(): SubscriptionState {
    return this.current;
  }

  crashError(): Error | undefined {
    return this.error;
  }

  assignedPartitions(): string[] {
    return [...this.assigned];
  }

  rebalancing(): boolean {
    return this.revoked && (this.current === 'starting' || this.current === 'running');
  }

  async stop(): Promise<void> {
    if (this.current === 'stopped') return;
    if (this.current !== 'crashed') this.current = 'stopped';
    await this.consumer.disconnect();
    this.onEnd?.();
  }
}
