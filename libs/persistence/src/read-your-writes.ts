import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';
import { eventCatalog, type EventCatalog, type EventEnvelope } from '@rollgate/contracts';
import { partitionForKey, type EventLog, type LogPosition } from '@rollgate/event-log';
import { OutboxEntity } from './entities';
import type { ProjectionRunner } from './projection-runner';

/**
 * Where the log must be read up to for a write to be visible: per (topic, partition), the
 * offset a read model's checkpoint must reach. See docs/adr/0008-read-your-writes.md.
 */
export type ConsistencyToken = LogPosition[];

/** The HTTP header that carries a token, on write responses and on reads that want to wait. */
export const CONSISTENCY_HEADER = 'Rollgate-Consistency';

const TOKEN_PART = /^([A-Za-z0-9._-]{1,200}):(\d{1,6}):(\d{1,15})$/;
const MAX_TOKEN_PARTS = 64;

/** `topic:partition:offset` joined by commas, sorted so equal tokens are equal strings. */
export function formatConsistencyToken(token: ConsistencyToken): string {
  return token
    .map((p) => `${p.topic}:${p.partition}:${p.offset}`)
    .sort()
    .join(',');
}

/** The token of a header, or undefined when the header does not follow the grammar. */
export function parseConsistencyToken(text: string): ConsistencyToken | undefined {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0 || parts.length > MAX_TOKEN_PARTS) return undefined;
  const token: ConsistencyToken = [];
  for (const part of parts) {
    const match = TOKEN_PART.exec(part);
    if (!match) return undefined;
    token.push({ topic: match[1]!, partition: Number(match[2]), offset: Number(match[3]) });
  }
  return token;
}

const writes = new AsyncLocalStorage<EventEnvelope[]>();

/** Runs `work` and returns, with its result, every event it committed through an EventStore. */
export async function collectWrites<T>(
  work: () => Promise<T>,
): Promise<{ result: T; events: EventEnvelope[] }> {
  const events: EventEnvelope[] = [];
  const result = await writes.run(events, work);
  // A copy: work the request started in the background (a migration phase) keeps appending to
  // the original, and belongs to later reads, not to this answer.
  return { result, events: [...events] };
}

/** Called by the EventStore after a commit; a no-op outside `collectWrites`. */
export function recordWrites(events: readonly EventEnvelope[]): void {
  writes.getStore()?.push(...events);
}

export interface ReadYourWritesOptions {
  catalog?: EventCatalog;
  /** How often the outbox and the checkpoints are looked at while waiting. */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * Most waits end within a few polls; a long one (the relay or a read model behind under load)
 * backs off, so waiting requests do not add load to what they wait for.
 */
const nextPoll = (wait: number, first: number) => Math.min(wait * 2, first * 8);

/**
 * Read-your-writes over eventually consistent read models. A write's token is known once its
 * events are on the log (the outbox drained past them): the end offset of each partition they
 * went to. A read model has caught up with the token when its checkpoint (committed with its
 * rows) reached every position of a topic it consumes. Checkpoints live in the service's
 * database, so every replica of the service sees the same answer.
 */
export class ReadYourWrites {
  private readonly catalog: EventCatalog;
  private readonly pollMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: EventLog,
    private readonly readModels: () => readonly ProjectionRunner[],
    options: ReadYourWritesOptions = {},
  ) {
    this.catalog = options.catalog ?? eventCatalog;
    this.pollMs = options.pollMs ?? 5;
  }

  /**
   * The token of committed events, or undefined when they are not all on the log by `deadline`
   * (the relay is behind or the log is down).
   */
  async tokenFor(
    events: readonly EventEnvelope[],
    deadline: number,
  ): Promise<ConsistencyToken | undefined> {
    if (events.length === 0) return [];
    if (!(await this.outboxDrained(deadline))) return undefined;
    const byTopic = new Map<string, Set<string>>();
    for (const event of events) {
      const topic = this.catalog.definition(event.type, event.version)?.topic.name;
      if (!topic) continue;
      byTopic.set(topic, (byTopic.get(topic) ?? new Set()).add(event.key));
    }
    const token: ConsistencyToken = [];
    for (const [topic, keys] of byTopic) {
      const ends = await this.log.endOffsets(topic);
      const partitions = new Set([...keys].map((key) => partitionForKey(key, ends.length)));
      for (const partition of partitions) {
        token.push({ topic, partition, offset: ends[partition] ?? 0 });
      }
    }
    return token;
  }

  /** Whether every read model of this service has applied the log up to the token. */
  async reached(token: ConsistencyToken): Promise<boolean> {
    for (const runner of this.readModels()) {
      const mine = token.filter((position) => runner.topics.includes(position.topic));
      if (mine.length === 0) continue;
      const checkpoints = await runner.checkpoints();
      for (const position of mine) {
        const checkpoint = checkpoints.get(`${position.topic}:${position.partition}`) ?? 0;
        if (checkpoint < position.offset) return false;
      }
    }
    return true;
  }

  /** Waits until `reached(token)`; false when the deadline passed first. */
  async waitFor(token: ConsistencyToken, deadline: number): Promise<boolean> {
    for (let wait = this.pollMs; ; wait = nextPoll(wait, this.pollMs)) {
      if (await this.reached(token)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(wait);
    }
  }

  /**
   * Every outbox row committed before now has been published. Rows are deleted once on the log,
   * by whichever replica's relay holds the outbox; only rows up to today's highest id count.
   */
  private async outboxDrained(deadline: number): Promise<boolean> {
    const repository = this.dataSource.getRepository(OutboxEntity);
    const newest = await repository
      .createQueryBuilder('o')
      .select('MAX(o.id)', 'max')
      .getRawOne<{ max: number | string | null }>();
    if (newest?.max === null || newest?.max === undefined) return true;
    const upTo = Number(newest.max);
    for (let wait = this.pollMs; ; wait = nextPoll(wait, this.pollMs)) {
      const pending = await repository
        .createQueryBuilder('o')
        .where('o.id <= :upTo', { upTo })
        .getCount();
      if (pending === 0) return true;
      if (Date.now() >= deadline) return false;
      await sleep(wait);
    }
  }
}
