import { context, propagation } from '@opentelemetry/api';
import type { DataSource, EntityManager } from 'typeorm';
import { In } from 'typeorm';
import type { EventEnvelope } from '@rollgate/contracts';
import type { EventLog } from '@rollgate/event-log';
import { OutboxEntity } from './entities';
import { inTransaction } from './transaction';

/** First key of the outbox advisory lock ("RGOB"); the second is the outbox table's hash. */
const OUTBOX_LOCK_CLASS = 0x52474f42;
const CONTENDED_RETRY_MS = 50;

/** Where the relay publishes: the event log itself, or a client that appends to it. */
export type EventPublisher = Pick<EventLog, 'append'>;

export interface OutboxRelayOptions {
  batchSize?: number;
  /** Safety net: how often it looks even when nobody called `kick()`. */
  intervalMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Publishes committed events from the outbox to the log, oldest first, then deletes them.
 * A crash between publish and delete publishes again: consumers are idempotent (ADR 0004).
 */
export class OutboxRelay {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<number> | undefined;
  private again = false;
  /** Another relay held the outbox: look again shortly rather than wait for the next poll. */
  private contended = false;
  private readonly batchSize: number;
  private readonly intervalMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: EventPublisher,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.intervalMs = options.intervalMs ?? 500;
  }

  start(): void {
    this.running = true;
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await this.inFlight?.catch(() => undefined);
  }

  /** Asks for a flush soon; flushes never overlap. */
  kick(): void {
    if (!this.running) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.flush()
      .catch((error: unknown) => {
        this.options.onError?.(error);
        return 0;
      })
      .finally(() => {
        this.inFlight = undefined;
        if (this.contended) {
          this.contended = false;
          setTimeout(() => this.kick(), CONTENDED_RETRY_MS).unref();
        } else if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * Publishes everything pending now; resolves with how many events went out. A batch smaller
   * than the limit was all there was: rows committed since kicked the relay, which flushes again.
   */
  async flush(): Promise<number> {
    let published = 0;
    for (;;) {
      const sent = await inTransaction(this.dataSource, (manager) => this.publishBatch(manager));
      published += sent;
      if (sent < this.batchSize) return published;
    }
  }

  /**
   * One batch, oldest first. Only the rows read are deleted (by id): a row committed later with a
   * lower id is still there for the next batch. In a transaction, so on SQLite nothing
   * uncommitted of another command is read.
   */
  private async publishBatch(manager: EntityManager): Promise<number> {
    if (!(await this.claim(manager))) {
      this.contended = true;
      return 0;
    }
    const rows = await manager.find(OutboxEntity, { order: { id: 'ASC' }, take: this.batchSize });
    if (rows.length === 0) return 0;
    for (const group of groupByTraceContext(rows)) {
      const parent = group[0]!.traceContext
        ? propagation.extract(
            context.active(),
            JSON.parse(group[0]!.traceContext) as Record<string, string>,
          )
        : context.active();
      await context.with(parent, () =>
        this.publisher.append(group.map((row) => JSON.parse(row.envelope) as EventEnvelope)),
      );
    }
    await manager.delete(OutboxEntity, { id: In(rows.map((row) => row.id)) });
    return rows.length;
  }

  /**
   * Only one relay of an outbox publishes at a time (a transaction-scoped advisory lock), so
   * several processes of one service never publish a row twice nor overtake each other's
   * older rows. SQLite needs none: one process owns the file and its transactions are queued.
   */
  private async claim(manager: EntityManager): Promise<boolean> {
    if (manager.connection.options.type !== 'postgres') return true;
    const table = manager.connection.getMetadata(OutboxEntity).tablePath;
    const [row] = (await manager.query(
      'SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS claimed',
      [OUTBOX_LOCK_CLASS, table],
    )) as { claimed: boolean }[];
    return row?.claimed === true;
  }

  async pending(): Promise<number> {
    return this.dataSource.manager.count(OutboxEntity);
  }
}

/** Consecutive rows written under the same trace context, so each command's trace continues. */
function groupByTraceContext(rows: OutboxEntity[]): OutboxEntity[][] {
  const groups: OutboxEntity[][] = [];
  for (const row of rows) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.traceContext === row.traceContext) last.push(row);
    else groups.push([row]);
  }
  return groups;
}
