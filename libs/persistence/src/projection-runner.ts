import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope } from '@rollgate/contracts';
import {
  withEventSpan,
  type EventLog,
  type LoggedEvent,
  type RetryOptions,
  type Subscription,
} from '@rollgate/event-log';
import { ProjectionCheckpointEntity } from './entities';
import { inTransaction } from './transaction';

/**
 * A read model: folds events into tables. `apply` must only touch this service's tables. The
 * services declare theirs as Nest event handlers; the event-log transport turns them into these.
 */
export interface Projection {
  readonly name: string;
  readonly topics: readonly string[];
  /** `logged` is the event as it sits in the log: its position and headers. */
  apply(manager: EntityManager, event: EventEnvelope, logged: LoggedEvent): Promise<void>;
}

export interface ProjectionRunnerOptions {
  /** Consumer group; default `rollgate-<projection name>`. */
  groupId?: string;
  retry?: Partial<RetryOptions>;
  onCrash?: (error: Error) => void;
}

/**
 * Feeds a projection from the log. Each batch and its checkpoint commit in one transaction,
 * and the subscription resumes from that checkpoint: a crash never applies an event twice
 * and never skips one.
 */
export class ProjectionRunner {
  private subscription: Subscription | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: EventLog,
    private readonly projection: Projection,
    private readonly options: ProjectionRunnerOptions = {},
  ) {}

  get name(): string {
    return this.projection.name;
  }

  /** The topics this read model folds. */
  get topics(): readonly string[] {
    return this.projection.topics;
  }

  async start(): Promise<Subscription> {
    await this.assertNotAheadOfLog();
    this.subscription = await this.log.subscribe({
      groupId: this.options.groupId ?? `rollgate-${this.projection.name}`,
      topics: [...this.projection.topics],
      handle: (batch) => this.applyBatch(batch),
      positionOf: (topic, partition) => this.checkpoint(topic, partition),
      ...(this.options.retry ? { retry: this.options.retry } : {}),
      ...(this.options.onCrash ? { onCrash: this.options.onCrash } : {}),
    });
    return this.subscription;
  }

  /**
   * A checkpoint past the end of its partition means the log was reset under this read model:
   * resuming would silently skip every new event, so refuse to start and say why.
   */
  private async assertNotAheadOfLog(): Promise<void> {
    const checkpoints = await this.dataSource.manager.find(ProjectionCheckpointEntity, {
      where: { projection: this.projection.name },
    });
    for (const topic of this.projection.topics) {
      const ends = await this.log.endOffsets(topic);
      for (const checkpoint of checkpoints.filter((c) => c.topic === topic)) {
        const end = ends[checkpoint.partition] ?? 0;
        if (checkpoint.nextOffset > end) {
          throw new Error(
            `read model ${this.projection.name} is ahead of the log: ${topic}[${checkpoint.partition}] ends at ${end} ` +
              `but the checkpoint is ${checkpoint.nextOffset}. Was the log reset? Rebuild the read model from the log.`,
          );
        }
      }
    }
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  async checkpoint(
    topic: string,
    partition: number,
    manager = this.dataSource.manager,
  ): Promise<number | undefined> {
    const row = await manager.findOne(ProjectionCheckpointEntity, {
      where: { projection: this.projection.name, topic, partition },
    });
    return row?.nextOffset;
  }

  /** Every partition's checkpoint of this read model (`topic:partition` → next offset), in one query. */
  async checkpoints(): Promise<Map<string, number>> {
    const rows = await this.dataSource.manager.find(ProjectionCheckpointEntity, {
      where: { projection: this.projection.name },
    });
    return new Map(rows.map((row) => [`${row.topic}:${row.partition}`, row.nextOffset]));
  }

  /** One partition's batch: apply what is past the checkpoint, then move the checkpoint. */
  async applyBatch(batch: LoggedEvent[]): Promise<void> {
    const { topic, partition } = batch[0]!.position;
    await inTransaction(this.dataSource, async (manager) => {
      const from = (await this.checkpoint(topic, partition, manager)) ?? 0;
      let next = from;
      for (const logged of batch) {
        if (logged.position.offset < from) continue;
        await withEventSpan(logged, this.projection.name, () =>
          this.projection.apply(manager, logged.event, logged),
        );
        next = logged.position.offset + 1;
      }
      if (next === from) return;
      await manager.upsert(
        ProjectionCheckpointEntity,
        { projection: this.projection.name, topic, partition, nextOffset: next },
        ['projection', 'topic', 'partition'],
      );
    });
  }
}
