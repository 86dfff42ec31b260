import {
  Kafka,
  logLevel,
  PartitionAssigners,
  Partitioners,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Message,
  type PartitionAssigner,
  type Producer,
} from 'kafkajs';
import { randomUUID } from 'node:crypto';
import {
  deadLetterTopicOf,
  eventCatalog,
  type EventCatalog,
  type NewEvent,
  type TopicDefinition,
} from '@rollgate/contracts';
import { deadLetterHeaders, decodeEvent, encodeEvents, LazyHeadersEvent } from '../codec';
import {
  MalformedEventError,
  type EventLog,
  type LoggedEvent,
  type ReadRangeOptions,
  type SubscribeOptions,
  type Subscription,
} from '../port';
import { backoffDelay, retryOptions, sleep } from '../retry';
import { withPublishSpan } from '../tracing';
import { CONSOLE_SINK, kafkajsLogCreator, waitForKafka, type LogSink } from './kafka-logging';
import { KafkaSubscription } from './kafka-subscription';

/** How far the fetch loop of a range read may run ahead of its reader. */
const READ_AHEAD_MESSAGES = 20_000;
/** About 10 s of retries while a new topic's partitions get their leaders. */
const LEADER_RETRY = { retries: 0, initialDelayMs: 100, maxDelayMs: 2_000 };
const LEADER_RETRIES = 10;

export interface KafkaEventLogOptions {
  brokers: string[];
  clientId: string;
  catalog?: EventCatalog;
  /** kafkajs's own logging; default ERROR. Crashes are reported through subscriptions either way. */
  logLevel?: logLevel;
  /** Where kafkajs's lines and the adapter's own go, at our levels; default the console. */
  logger?: LogSink;
  /** How long the first call waits for the brokers (and their group coordinator); default 120 s. */
  readyTimeoutMs?: number;
}

function ignoreExisting(error: unknown): void {
  const nested = (error as { errors?: { type?: string }[] }).errors ?? [];
  if (nested.length === 0 || nested.some((e) => e.type !== 'TOPIC_ALREADY_EXISTS')) throw error;
}

export function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    result[name] = Array.isArray(value) ? String(value[value.length - 1]) : String(value);
  }
  return result;
}

/**
 * The production event log on Apache Kafka through kafkajs: idempotent producer with acks=all,
 * topics created explicitly and kept forever (retention.ms=-1), trace context in the headers.
 */
export class KafkaEventLog implements EventLog {
  readonly catalog: EventCatalog;
  readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly logger: LogSink;

  constructor(private readonly options: KafkaEventLogOptions) {
    this.catalog = options.catalog ?? eventCatalog;
    this.logger = options.logger ?? CONSOLE_SINK;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: options.logLevel ?? logLevel.ERROR,
      logCreator: kafkajsLogCreator(this.logger),
      retry: { retries: 8, initialRetryTime: 200 },
    });
    this.admin = this.kafka.admin();
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  private connect(): Promise<void> {
    this.connected ??= waitForKafka(
      this.options.brokers,
      this.logger,
      this.options.readyTimeoutMs ?? 120_000,
    ).then(() =>
      Promise.all([this.admin.connect(), this.producer.connect()]).then(() => undefined),
    );
    return this.connected;
  }

  async ensureTopics(topics: readonly TopicDefinition[]): Promise<void> {
    await this.connect();
    const forever = [
      { name: 'retention.ms', value: '-1' },
      { name: 'cleanup.policy', value: 'delete' },
    ];
    const existing = new Set(await this.admin.listTopics());
    const wanted = topics.flatMap((topic) => [
      {
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: 1,
        configEntries: forever,
      },
      {
        topic: deadLetterTopicOf(topic.name),
        numPartitions: 1,
        replicationFactor: 1,
        configEntries: forever,
      },
    ]);
    const missing = wanted.filter((t) => !existing.has(t.topic));
    // Another process may create the same topics at the same moment: "already exists" is fine.
    if (missing.length > 0)
      await this.admin
        .createTopics({ waitForLeaders: true, topics: missing })
        .catch(ignoreExisting);
    await this.loadPartitionCounts(topics.flatMap((t) => [t.name, deadLetterTopicOf(t.name)]));
  }

  private async loadPartitionCounts(topics: string[]): Promise<void> {
    const metadata = await this.admin.fetchTopicMetadata({ topics });
    for (const topic of metadata.topics)
      this.partitionCounts.set(topic.name, topic.partitions.length);
  }

  async partitionsOf(topic: string): Promise<number> {
    if (!this.partitionCounts.has(topic)) {
      await this.connect();
      await this.loadPartitionCounts([topic]);
    }
    return this.partitionCounts.get(topic)!;
  }

  async append(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    await this.connect();
    for (const event of events) {
      const topic = this.catalog.definition(event.type, event.version)?.topic.name;
      if (topic && !this.partitionCounts.has(topic)) await this.partitionsOf(topic);
    }
    const messages = encodeEvents(this.catalog, events, (topic) =>
      this.partitionCounts.get(topic)!,
    );
    if (messages.length === 0) return [];
    return withPublishSpan(messages, async () => {
      // One request for the whole append; kafkajs groups each topic's messages by partition.
      const byTopic = new Map<string, Message[]>();
      for (const m of messages) {
        let list = byTopic.get(m.topic);
        if (!list) byTopic.set(m.topic, (list = []));
        list.push({ key: m.key, value: m.value, partition: m.partition, headers: m.headers });
      }
      const results = await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
      });
      // Messages to one partition in one request get consecutive offsets from its base offset:
      // next[topic][partition] is the offset of the next message of this append there.
      const next = new Map<string, number[]>();
      for (const r of results) {
        let offsets = next.get(r.topicName);
        if (!offsets) next.set(r.topicName, (offsets = []));
        offsets[r.partition] = Number(r.baseOffset ?? r.offset ?? 0);
      }
      const logged: LoggedEvent[] = new Array(messages.length);
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        const offsets = next.get(m.topic)!;
        const offset = offsets[m.partition]!;
        offsets[m.partition] = offset + 1;
        logged[i] = {
          event: m.event,
          position: { topic: m.topic, partition: m.partition, offset },
          headers: m.headers,
        };
      }
      return logged;
    });
  }

  async deadLetter(
    error: MalformedEventError,
    key: string | null,
    value: Buffer | null,
    headers: Record<string, string>,
  ): Promise<void> {
    await this.producer.send({
      topic: deadLetterTopicOf(error.position.topic),
      acks: -1,
      messages: [
        {
          key,
          value,
          headers: deadLetterHeaders(error, headers),
        },
      ],
    });
  }

  decode(payload: EachBatchPayload['batch'], index: number): LoggedEvent | MalformedEventError {
    const message = payload.messages[index]!;
    const position = {
      topic: payload.topic,
      partition: payload.partition,
      offset: Number(message.offset),
    };
    const event = decodeEvent(this.catalog, position, message.value);
    if (event instanceof MalformedEventError) return event;
    return new LazyHeadersEvent(event, position, message.headers, headersToStrings);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    await this.connect();
    const retry = retryOptions(options.retry);
    const createConsumer = (sticky: PartitionAssigner) =>
      this.kafka.consumer({
        groupId: options.groupId,
        // Sticky first; round robin lets a member of an older release still join the group.
        partitionAssigners: [sticky, PartitionAssigners.roundRobin],
        allowAutoTopicCreation: false,
        // A crash is final: the subscription reports it (health) instead of restarting silently.
        retry: {
          retries: retry.retries,
          initialRetryTime: retry.initialDelayMs,
          maxRetryTime: retry.maxDelayMs,
          restartOnFailure: async () => false,
        },
        // A member that died is evicted (and its partitions reassigned) within 10 s.
        sessionTimeout: 10_000,
        heartbeatInterval: 1_000,
        // The broker answers a fetch as soon as a record arrives (minBytes 1): this only bounds an
        // empty poll. Dozens of idle consumers polling ten times a second cost the broker and
        // every process CPU for nothing; twice a second keeps heartbeats and rebalances prompt.
        maxWaitTimeInMs: 500,
      });
    const subscription = new KafkaSubscription(this, createConsumer, options);
    this.subscriptions.add(subscription);
    await subscription.start(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  async endOffsets(topic: string): Promise<number[]> {
    await this.connect();
    for (let attempt = 0; ; attempt++) {
      try {
        const offsets = await this.admin.fetchTopicOffsets(topic);
        return offsets.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
      } catch (error) {
        // Just after another process created the topic its leaders may still be moving in
        // ("not the leader for that topic-partition"): a passing state, not a reason to fail.
        if (!(error as { retriable?: boolean }).retriable || attempt >= LEADER_RETRIES) throw error;
        await sleep(backoffDelay(LEADER_RETRY, attempt));
      }
    }
  }

  /**
   * kafkajs has no assign(): a range is read by a throwaway consumer group that seeks each
   * partition to the start of the range and stops at its end; the group is deleted afterwards.
   */
  async *readRange(options: ReadRangeOptions): AsyncIterable<LoggedEvent> {
    const ends = await this.endOffsets(options.topic);
    const partitions = options.partitions ?? ends.map((_, p) => p);
    const from = options.fromOffset ?? 0;
    const stopAt = new Map(
      partitions.map((p) => [
        p,
        Math.min(options.toOffset ?? Number.MAX_SAFE_INTEGER, ends[p] ?? 0),
      ]),
    );
    const pending = partitions.filter((p) => stopAt.get(p)! > from);
    if (pending.length === 0) return;
    const groupId = `rollgate-read-${randomUUID()}`;
    const consumer: Consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 100,
    });
    // Whole batches are queued and decoded by the reader: kafkajs fetches the next batch while
    // the reader validates and folds this one.
    type Slice = { batch: EachBatchPayload['batch']; from: number; to: number };
    const queue: (Slice | 'done')[] = [];
    let notify: (() => void) | undefined;
    let failure: unknown;
    const remaining = new Set(pending);
    const push = (item: Slice | 'done') => {
      queue.push(item);
      notify?.();
    };
    // Backpressure: the fetch loop waits while the reader is this many messages behind, so a
    // long range never piles up in memory.
    let queued = 0;
    let drained: (() => void) | undefined;
    let closing = false;
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const partition of partitions)
        consumer.seek({ topic: options.topic, partition, offset: String(from) });
    });
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          if (!remaining.has(batch.partition)) return;
          const end = stopAt.get(batch.partition)!;
          let first = 0;
          while (first < batch.messages.length && Number(batch.messages[first]!.offset) < from)
            first++;
          let stop = first;
          while (stop < batch.messages.length && Number(batch.messages[stop]!.offset) < end) stop++;
          if (stop > first) {
            queued += stop - first;
            push({ batch, from: first, to: stop });
          }
          const last = Number(batch.lastOffset());
          if (last + 1 >= end && remaining.delete(batch.partition) && remaining.size === 0)
            push('done');
          while (queued > READ_AHEAD_MESSAGES && !closing) {
            await new Promise<void>((resolve) => (drained = resolve));
          }
        },
      })
      .catch((error: unknown) => {
        failure = error;
        push('done');
      });
    try {
      for (;;) {
        if (queue.length === 0) await new Promise<void>((resolve) => (notify = resolve));
        notify = undefined;
        const items = queue.splice(0, queue.length);
        for (const item of items) {
          if (item === 'done') {
            if (failure) throw failure;
            return;
          }
          for (let i = item.from; i < item.to; i++) {
            const decoded = this.decode(item.batch, i);
            if (decoded instanceof MalformedEventError) {
              options.reportMalformed?.(decoded);
              if (options.onMalformed !== 'skip') throw decoded;
              continue;
            }
            yield decoded;
          }
          queued -= item.to - item.from;
          if (queued <= READ_AHEAD_MESSAGES) drained?.();
        }
      }
    } finally {
      closing = true;
      drained?.();
      await consumer.disconnect();
      await this.admin.deleteGroups([groupId]).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    if (this.connected) {
      await this.connected.catch(() => undefined);
      await Promise.all([this.producer.disconnect(), this.admin.disconnect()]);
    }
  }
}
