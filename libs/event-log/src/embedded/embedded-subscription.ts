import { backoffDelay, retryOptions, sleep } from '../retry';
import {
  MalformedEventError,
  type LoggedEvent,
  type RetryOptions,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionState,
} from '../port';
import type { EmbeddedEventLog } from './embedded-event-log';
import type { GroupCoordinator } from './group-coordinator';

/** One consumer-group member on the embedded log: a loop over its assigned partitions. */
export class EmbeddedSubscription implements Subscription {
  readonly groupId: string;
  private current: SubscriptionState = 'starting';
  private error: Error | undefined;
  private readonly coordinator: GroupCoordinator;
  private readonly retry: RetryOptions;
  private readonly partitions: string[];
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly onAppend = () => this.wake?.();
  /**
   * Where this member got to per partition. With `positionOf` the handler's checkpoint cannot
   * move past messages it never saw (dead letters), so the member also remembers its own progress.
   */
  private readonly reached = new Map<string, number>();

  constructor(
    private readonly log: EmbeddedEventLog,
    private readonly options: SubscribeOptions,
    private readonly memberId: string,
  ) {
    this.groupId = options.groupId;
    this.coordinator = log.coordinator(options.groupId);
    this.retry = retryOptions(options.retry);
    this.partitions = options.topics.flatMap((topic) =>
      Array.from({ length: log.partitionsOf(topic) }, (_, p) => `${topic}:${p}`),
    );
  }

  start(onEnd: () => void): void {
    this.coordinator.join(this.memberId);
    if (this.options.fromBeginning === false) this.startGroupAtEnd();
    this.current = 'running';
    this.log.signal().on('append', this.onAppend);
    // The coordinator assigns as members come and go, with no pause in between: one assignment.
    this.options.onAssigned?.(this.assignedPartitions());
    this.loop = this.run().finally(() => {
      this.log.signal().off('append', this.onAppend);
      this.coordinator.leave(this.memberId);
      onEnd();
    });
  }

  state(): SubscriptionState {
    return this.current;
  }

  crashError(): Error | undefined {
    return this.error;
  }

  assignedPartitions(): string[] {
    return this.current === 'running'
      ? this.coordinator.assignment(this.memberId, this.partitions)
      : [];
  }

  rebalancing(): boolean {
    return false;
  }

  async stop(): Promise<void> {
    if (this.current === 'running' || this.current === 'starting') this.current = 'stopped';
    this.wake?.();
    await this.loop;
  }

  /** Kafka semantics: a new group that does not start at the beginning starts at the current end. */
  private startGroupAtEnd(): void {
    for (const topic of this.options.topics) {
      for (let partition = 0; partition < this.log.partitionsOf(topic); partition++) {
        if (this.log.committedOffset(this.groupId, topic, partition) === undefined) {
          this.log.commit(this.groupId, topic, partition, this.log.endOffsetOf(topic, partition));
        }
      }
    }
  }

  private async run(): Promise<void> {
    while (this.current === 'running') {
      // A member that only holds partitions reads nothing: it waits until it is stopped.
      if (this.options.holdOnly) {
        await this.idle();
        continue;
      }
      let worked = false;
      for (const slot of this.coordinator.assignment(this.memberId, this.partitions)) {
        if (this.current !== 'running') break;
        if (!this.coordinator.tryClaim(slot)) continue;
        try {
          worked = (await this.consumePartition(slot)) || worked;
        } finally {
          this.coordinator.release(slot);
        }
      }
      if (!worked && this.current === 'running') await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.log.pollIntervalMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Handles the next batch of one partition; true when there was one. */
  private async consumePartition(slot: string): Promise<boolean> {
    const separator = slot.lastIndexOf(':');
    const topic = slot.slice(0, separator);
    const partition = Number(slot.slice(separator + 1));
    const stored = this.options.positionOf
      ? ((await this.options.positionOf(topic, partition)) ?? 0)
      : (this.log.committedOffset(this.groupId, topic, partition) ?? 0);
    const from = Math.max(stored, this.reached.get(slot) ?? 0);
    const rows = this.log.readRows(topic, partition, from, this.log.maxBatchSize);
    if (rows.length === 0) return false;
    const batch: LoggedEvent[] = [];
    for (const row of rows) {
      const decoded = this.log.decodeRow(topic, partition, row);
      if (decoded instanceof MalformedEventError) {
        this.log.deadLetter(
          decoded,
          row.key,
          row.value,
          JSON.parse(row.headers) as Record<string, string>,
        );
      } else {
        batch.push(decoded);
      }
    }
    if (batch.length > 0 && !(await this.handleWithRetry(batch))) return false;
    const next = rows[rows.length - 1]!.offset + 1;
    this.log.commit(this.groupId, topic, partition, next);
    this.reached.set(slot, next);
    return true;
  }

  private async handleWithRetry(batch: LoggedEvent[]): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.current !== 'running') return false;
      try {
        await this.options.handle(batch);
        return true;
      } catch (error) {
        if (attempt >= this.retry.retries) {
          this.crash(error instanceof Error ? error : new Error(String(error)));
          return false;
        }
        await sleep(backoffDelay(this.retry, attempt));
      }
    }
  }

  private crash(error: Error): void {
    this.current = 'crashed';
    this.error = error;
    this.options.onCrash?.(error);
  }
}
