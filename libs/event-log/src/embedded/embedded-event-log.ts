import Database from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  deadLetterTopicOf,
  eventCatalog,
  type EventCatalog,
  type NewEvent,
  type TopicDefinition,
} from '@rollgate/contracts';
import { deadLetterHeaders, decodeMessage, encodeEvents, type EncodedMessage } from '../codec';
import {
  MalformedEventError,
  type EventLog,
  type LoggedEvent,
  type ReadRangeOptions,
  type SubscribeOptions,
  type Subscription,
} from '../port';
import { withPublishSpan } from '../tracing';
import { EmbeddedSubscription } from './embedded-subscription';
import { GroupCoordinator } from './group-coordinator';
import { ensurePrivateDirectory, ensurePrivateFile } from '../private-files';

export interface EmbeddedEventLogOptions {
  /** SQLite file holding the log; created with its folder if missing. */
  file: string;
  catalog?: EventCatalog;
  /** How often idle consumers look for events written by another process. */
  pollIntervalMs?: number;
  /** Most events handed to a handler at once. */
  maxBatchSize?: number;
}

interface MessageRow {
  offset: number;
  key: string;
  headers: string;
  value: string;
}

// Shared by every EmbeddedEventLog on the same file in this process: group membership
// and wake-ups after an append.
const coordinators = new Map<string, GroupCoordinator>();
const appendSignals = new Map<string, EventEmitter>();

/**
 * The zero-dependency event log: Kafka's model (topics, partitions, offsets, consumer groups,
 * committed positions) on one SQLite file. See docs/adr/0002-embedded-event-log.md.
 */
export class EmbeddedEventLog implements EventLog {
  readonly catalog: EventCatalog;
  readonly pollIntervalMs: number;
  readonly maxBatchSize: number;
  private readonly db: Database.Database;
  private readonly path: string;
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<EmbeddedSubscription>();

  constructor(options: EmbeddedEventLogOptions) {
    this.catalog = options.catalog ?? eventCatalog;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.maxBatchSize = options.maxBatchSize ?? 500;
    ensurePrivateDirectory(dirname(resolve(options.file)));
    ensurePrivateFile(options.file);
    this.db = new Database(options.file);
    this.path = realpathSync(options.file);
    // WAL lets readers (the CLI, replay) run beside the writer; FULL syncs every commit:
    // an acknowledged append survives a crash or power loss.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS messages (
        topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
        key TEXT NOT NULL, headers TEXT NOT NULL, value TEXT NOT NULL, appended_at TEXT NOT NULL,
        PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS group_offsets (
        group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL,
        next_offset INTEGER NOT NULL, PRIMARY KEY (group_id, topic, partition)) WITHOUT ROWID;
    `);
    for (const row of this.db.prepare('SELECT name, partitions FROM topics').all() as {
      name: string;
      partitions: number;
    }[]) {
      this.partitionCounts.set(row.name, row.partitions);
    }
  }

  async ensureTopics(topics: readonly TopicDefinition[]): Promise<void> {
    const insert = this.db.prepare(
      'INSERT INTO topics (name, partitions) VALUES (?, ?) ON CONFLICT (name) DO NOTHING',
    );
    this.db.transaction(() => {
      for (const topic of topics) {
        insert.run(topic.name, topic.partitions);
        insert.run(deadLetterTopicOf(topic.name), 1);
      }
    })();
    for (const row of this.db.prepare('SELECT name, partitions FROM topics').all() as {
      name: string;
      partitions: number;
    }[]) {
      this.partitionCounts.set(row.name, row.partitions);
    }
  }

  partitionsOf(topic: string): number {
    const count = this.partitionCounts.get(topic);
    if (count === undefined)
      throw new Error(`topic ${topic} does not exist: call ensureTopics first`);
    return count;
  }

  async append(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    const messages = encodeEvents(this.catalog, events, (topic) => this.partitionsOf(topic));
    if (messages.length === 0) return [];
    const logged = await withPublishSpan(messages, async () => this.write(messages));
    this.signal().emit('append');
    return logged;
  }

  /** Writes already-encoded messages in one transaction; offsets follow the partition's end. */
  private write(messages: EncodedMessage[]): LoggedEvent[] {
    const insert = this.db.prepare(
      'INSERT INTO messages (topic, partition, offset, key, headers, value, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const appendedAt = new Date().toISOString();
    return this.db
      .transaction(() => {
        const next = new Map<string, number>();
        return messages.map((message) => {
          const slot = `${message.topic}:${message.partition}`;
          const offset = next.get(slot) ?? this.endOffsetOf(message.topic, message.partition);
          next.set(slot, offset + 1);
          insert.run(
            message.topic,
            message.partition,
            offset,
            message.key,
            JSON.stringify(message.headers),
            message.value,
            appendedAt,
          );
          return {
            event: message.event,
            position: { topic: message.topic, partition: message.partition, offset },
            headers: message.headers,
          };
        });
      })
      .immediate();
  }

  /** Writes raw bytes to a topic, bypassing validation: dead letters and tests of bad input. */
  writeRaw(
    topic: string,
    partition: number,
    key: string,
    value: string,
    headers: Record<string, string>,
  ): number {
    const offset = this.endOffsetOf(topic, partition);
    this.db
      .prepare(
        'INSERT INTO messages (topic, partition, offset, key, headers, value, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(topic, partition, offset, key, JSON.stringify(headers), value, new Date().toISOString());
    this.signal().emit('append');
    return offset;
  }

  deadLetter(
    error: MalformedEventError,
    key: string,
    value: string,
    headers: Record<string, string>,
  ): void {
    this.writeRaw(
      deadLetterTopicOf(error.position.topic),
      0,
      key,
      value,
      deadLetterHeaders(error, headers),
    );
  }

  readRows(
    topic: string,
    partition: number,
    fromOffset: number,
    limit: number,
    toOffset = Number.MAX_SAFE_INTEGER,
  ): MessageRow[] {
    return this.db
      .prepare(
        'SELECT offset, key, headers, value FROM messages WHERE topic = ? AND partition = ? AND offset >= ? AND offset < ? ORDER BY offset LIMIT ?',
      )
      .all(topic, partition, fromOffset, toOffset, limit) as MessageRow[];
  }

  decodeRow(topic: string, partition: number, row: MessageRow): LoggedEvent | MalformedEventError {
    return decodeMessage(
      this.catalog,
      { topic, partition, offset: row.offset },
      row.value,
      JSON.parse(row.headers) as Record<string, string>,
    );
  }

  committedOffset(groupId: string, topic: string, partition: number): number | undefined {
    const row = this.db
      .prepare(
        'SELECT next_offset FROM group_offsets WHERE group_id = ? AND topic = ? AND partition = ?',
      )
      .get(groupId, topic, partition) as { next_offset: number } | undefined;
    return row?.next_offset;
  }

  commit(groupId: string, topic: string, partition: number, nextOffset: number): void {
    this.db
      .prepare(
        `INSERT INTO group_offsets (group_id, topic, partition, next_offset) VALUES (?, ?, ?, ?)
         ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = excluded.next_offset`,
      )
      .run(groupId, topic, partition, nextOffset);
  }

  endOffsetOf(topic: string, partition: number): number {
    const row = this.db
      .prepare(
        'SELECT COALESCE(MAX(offset) + 1, 0) AS next FROM messages WHERE topic = ? AND partition = ?',
      )
      .get(topic, partition) as { next: number };
    return row.next;
  }

  async endOffsets(topic: string): Promise<number[]> {
    return Array.from({ length: this.partitionsOf(topic) }, (_, p) => this.endOffsetOf(topic, p));
  }

  coordinator(groupId: string): GroupCoordinator {
    const key = `${this.path}#${groupId}`;
    let coordinator = coordinators.get(key);
    if (!coordinator) {
      coordinator = new GroupCoordinator();
      coordinators.set(key, coordinator);
    }
    return coordinator;
  }

  signal(): EventEmitter {
    let emitter = appendSignals.get(this.path);
    if (!emitter) {
      emitter = new EventEmitter();
      emitter.setMaxListeners(0);
      appendSignals.set(this.path, emitter);
    }
    return emitter;
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    for (const topic of options.topics) this.partitionsOf(topic);
    const subscription = new EmbeddedSubscription(this, options, randomUUID());
    this.subscriptions.add(subscription);
    subscription.start(() => this.subscriptions.delete(subscription));
    return subscription;
  }

  async *readRange(options: ReadRangeOptions): AsyncIterable<LoggedEvent> {
    const partitions =
      options.partitions ?? Array.from({ length: this.partitionsOf(options.topic) }, (_, p) => p);
    const ends = await this.endOffsets(options.topic);
    for (const partition of partitions) {
      const end = Math.min(options.toOffset ?? Number.MAX_SAFE_INTEGER, ends[partition] ?? 0);
      let next = options.fromOffset ?? 0;
      while (next < end) {
        const rows = this.readRows(options.topic, partition, next, 1000, end);
        if (rows.length === 0) break;
        for (const row of rows) {
          const decoded = this.decodeRow(options.topic, partition, row);
          if (decoded instanceof MalformedEventError) {
            options.reportMalformed?.(decoded);
            if (options.onMalformed !== 'skip') throw decoded;
            continue;
          }
          yield decoded;
        }
        next = rows[rows.length - 1]!.offset + 1;
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.db.close();
  }
}
