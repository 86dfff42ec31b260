import { context, propagation } from '@opentelemetry/api';
import { MoreThan, type DataSource, type EntityManager } from 'typeorm';
import { eventCatalog, type EventCatalog, type EventEnvelope } from '@rollgate/contracts';
import { fold, type Aggregate, type Decision } from '@rollgate/event-sourcing';
import { OutboxEntity, StoredEventEntity } from './entities';
import { recordWrites } from './read-your-writes';
import { inTransaction } from './transaction';

/** Another command appended to the stream between our read and our write. */
export class ConcurrencyConflictError extends Error {
  override readonly name = 'ConcurrencyConflictError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${streamId} changed after version ${expectedVersion}`);
  }
}

export interface ExecuteOptions {
  /** Re-reads and re-decides this many times after a conflict before giving up. */
  retries?: number;
  /**
   * Writes only while `streamId` is still at `version` (checked under a per-stream lock in the
   * same transaction), and never retries: the write of a process whose view of that stream is
   * stale (a replica that lost ownership of it) is refused with ConcurrencyConflictError.
   */
  fence?: { streamId: string; version: number };
}

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code;
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/**
 * The write side of a service: streams of events with optimistic concurrency (expected
 * version = the primary key (stream_id, sequence)) and a transactional outbox to the log.
 * See docs/adr/0004-command-concurrency.md.
 */
export class EventStore {
  private readonly committedListeners: (() => void)[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly catalog: EventCatalog = eventCatalog,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Called after `execute` commits new events: the outbox relay publishes them now, not on its next poll. */
  afterCommit(listener: () => void): void {
    this.committedListeners.push(listener);
  }

  /** The stream's events in order; with `afterVersion`, only those after the first that many. */
  async load(
    streamId: string,
    manager: EntityManager = this.dataSource.manager,
    afterVersion = 0,
  ): Promise<EventEnvelope[]> {
    const rows = await manager.find(StoredEventEntity, {
      where: { streamId, ...(afterVersion > 0 && { sequence: MoreThan(afterVersion) }) },
      order: { sequence: 'ASC' },
    });
    return rows.map((row) => this.catalog.upcast(JSON.parse(row.envelope) as EventEnvelope));
  }

  /**
   * Folds the stream, lets `decide` choose events from that state, and appends them at the
   * next sequence numbers. Two concurrent commands on one stream cannot both succeed: the
   * loser re-reads and decides again against the winner's state.
   */
  async execute<TState>(
    aggregate: Aggregate<TState>,
    streamId: string,
    decide: (state: TState) => Decision,
    options: ExecuteOptions = {},
  ): Promise<EventEnvelope[]> {
    const { fence } = options;
    const retries = fence ? 0 : (options.retries ?? 3);
    for (let attempt = 0; ; attempt++) {
      try {
        const appended = await inTransaction(this.dataSource, async (manager) => {
          if (fence) await this.assertVersion(manager, fence.streamId, fence.version);
          // Commands on one stream take turns (PostgreSQL): each folds what the one before it
          // committed, instead of five racing commands exhausting their retries on each other.
          if (fence?.streamId !== streamId) await this.lockStream(manager, streamId);
          const history = await this.load(streamId, manager);
          const decided = decide(fold(aggregate, history));
          return this.appendInTransaction(manager, streamId, history.length, decided);
        });
        if (appended.length > 0) {
          recordWrites(appended);
          for (const listener of this.committedListeners) listener();
        }
        return appended;
      } catch (error) {
        const conflict = error instanceof ConcurrencyConflictError || isUniqueViolation(error);
        if (!conflict) throw error;
        if (attempt >= retries) {
          throw error instanceof ConcurrencyConflictError
            ? error
            : new ConcurrencyConflictError(streamId, -1);
        }
      }
    }
  }

  /**
   * Appends events the caller decided on the stream as it folded it up to `version`, under the
   * same lock as a fence: refused with ConcurrencyConflictError once the stream moved on. For a
   * caller that keeps the stream's state itself, so nothing is read again.
   */
  async appendAt(streamId: string, version: number, decided: Decision): Promise<EventEnvelope[]> {
    if (decided.length === 0) return [];
    const appended = await inTransaction(this.dataSource, async (manager) => {
      await this.assertVersion(manager, streamId, version);
      return this.appendInTransaction(manager, streamId, version, decided);
    }).catch((error: unknown) => {
      throw isUniqueViolation(error) ? new ConcurrencyConflictError(streamId, version) : error;
    });
    recordWrites(appended);
    for (const listener of this.committedListeners) listener();
    return appended;
  }

  /**
   * The fence: a transaction-scoped lock on the stream (PostgreSQL; SQLite writes one at a time
   * anyway), so fenced writes on one stream are checked in turn, then its current version.
   */
  private async assertVersion(
    manager: EntityManager,
    streamId: string,
    version: number,
  ): Promise<void> {
    await this.lockStream(manager, streamId);
    const current = await manager.count(StoredEventEntity, { where: { streamId } });
    if (current !== version) throw new ConcurrencyConflictError(streamId, version);
  }

  /** A transaction-scoped lock on the stream (PostgreSQL; SQLite writes one at a time anyway). */
  private async lockStream(manager: EntityManager, streamId: string): Promise<void> {
    if (manager.connection.options.type === 'postgres') {
      await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [streamId]);
    }
  }

  /** Appends at `expectedVersion + 1...` and queues the events for the log, in one transaction. */
  async appendInTransaction(
    manager: EntityManager,
    streamId: string,
    expectedVersion: number,
    decided: Decision,
  ): Promise<EventEnvelope[]> {
    const envelopes = decided.map((event, index) =>
      this.catalog.create({ ...event, sequence: expectedVersion + index + 1 }, this.now),
    );
    if (envelopes.length === 0) return [];
    try {
      await manager.insert(
        StoredEventEntity,
        envelopes.map((envelope) => ({
          streamId,
          sequence: envelope.sequence!,
          eventId: envelope.id,
          type: envelope.type,
          envelope: JSON.stringify(envelope),
        })),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConcurrencyConflictError(streamId, expectedVersion);
      throw error;
    }
    const trace: Record<string, string> = {};
    propagation.inject(context.active(), trace);
    const traceContext = Object.keys(trace).length > 0 ? JSON.stringify(trace) : null;
    await manager.insert(
      OutboxEntity,
      envelopes.map((envelope) => ({ envelope: JSON.stringify(envelope), traceContext })),
    );
    return envelopes;
  }
}
