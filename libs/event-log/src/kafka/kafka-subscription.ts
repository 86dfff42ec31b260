import type { Consumer, EachBatchPayload } from 'kafkajs';
import {
  MalformedEventError,
  type LoggedEvent,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionState,
} from '../port';
import { headersToStrings, type KafkaEventLog } from './kafka-event-log';

/** One consumer-group member on Kafka. Commits only after the handler resolved. */
export class KafkaSubscription implements Subscription {
  readonly groupId: string;
  private current: SubscriptionState = 'starting';
  private error: Error | undefined;
  private assigned: string[] = [];
  private onEnd: (() => void) | undefined;

  constructor(
    private readonly log: KafkaEventLog,
    private readonly consumer: Consumer,
    private readonly options: SubscribeOptions,
  ) {
    this.groupId = options.groupId;
  }

  async start(onEnd: () => void): Promise<void> {
    this.onEnd = onEnd;
    const { consumer } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      this.assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((p) => `${topic}:${p}`),
      );
    });
    // kafkajs stops a consumer on a non-retriable error without restarting (restartOnFailure
    // says no): the subscription becomes `crashed`, which /health reports.
    consumer.on(consumer.events.CRASH, (event) => {
      if (this.current === 'stopped') return;
      this.current = 'crashed';
      this.assigned = [];
      this.error = event.payload.error;
      this.options.onCrash?.(event.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.current = 'running';
  }

  private async handleBatch({
    batch,
    resolveOffset,
    commitOffsetsIfNecessary,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
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
    // Throwing leaves the offsets unresolved: kafkajs retries the batch, then crashes.
    if (events.length > 0) await this.options.handle(events);
    resolveOffset(batch.lastOffset());
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

  async stop(): Promise<void> {
    if (this.current === 'stopped') return;
    if (this.current !== 'crashed') this.current = 'stopped';
    await this.consumer.disconnect();
    this.onEnd?.();
  }
}
