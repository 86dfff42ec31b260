import type { DataSource, EntityManager } from 'typeorm';
import type { EventEnvelope, WebhookFormat } from '@rollgate/contracts';
import type { SubscriptionFilter } from './event-filter';

/**
 * The webhook tables in plain SQL with bound parameters (never text from a request). They are
 * operational state (what was sent, when, how it went), not a read model a rebuild could derive,
 * so they have no entities for `audit rebuild` to compare.
 */
export type DeliveryStatus = 'pending' | 'delivered' | 'dead' | 'cancelled';
/** Why a delivery exists: the live log, a replay, or a dead letter sent again. */
export type DeliveryCause = 'live' | 'replay';

export interface SubscriptionRow extends SubscriptionFilter {
  id: string;
  url: string;
  secret: string;
  secretFingerprint: string;
  timeoutMs: number;
  maxAttempts: number;
  createdAt: string;
  createdBy: string;
  deletedAt: string | null;
}

export interface DeliveryRow {
  id: number;
  subscriptionId: string;
  eventId: string;
  eventType: string;
  orderingKey: string;
  envelope: string;
  status: DeliveryStatus;
  cause: DeliveryCause;
  attempts: number;
  nextAttemptAt: string;
  enqueuedAt: string;
  finishedAt: string | null;
  lastError: string | null;
}

export interface AttemptRow {
  id: number;
  deliveryId: number;
  subscriptionId: string;
  eventId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  outcome: 'delivered' | 'failed';
  error: string | null;
}

type Row = Record<string, unknown>;

/** `?` placeholders, numbered for PostgreSQL. */
function sql(manager: EntityManager, text: string): string {
  if (manager.connection.options.type !== 'postgres') return text;
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

async function query(manager: EntityManager, text: string, params: unknown[] = []) {
  return (await manager.query(sql(manager, text), params)) as Row[];
}

const SUBSCRIPTION_COLUMNS =
  'id, url, secret, secret_fingerprint, types, service, format, timeout_ms, max_attempts, created_at, created_by, deleted_at';
const DELIVERY_COLUMNS =
  'id, subscription_id, event_id, event_type, ordering_key, envelope, status, cause, attempts, next_attempt_at, enqueued_at, finished_at, last_error';

function subscriptionOf(row: Row): SubscriptionRow {
  return {
    id: String(row['id']),
    url: String(row['url']),
    secret: String(row['secret']),
    secretFingerprint: String(row['secret_fingerprint']),
    types: JSON.parse(String(row['types'])) as string[],
    service: (row['service'] as string | null) ?? null,
    format: row['format'] as WebhookFormat,
    timeoutMs: Number(row['timeout_ms']),
    maxAttempts: Number(row['max_attempts']),
    createdAt: String(row['created_at']),
    createdBy: String(row['created_by']),
    deletedAt: (row['deleted_at'] as string | null) ?? null,
  };
}

function deliveryOf(row: Row): DeliveryRow {
  return {
    id: Number(row['id']),
    subscriptionId: String(row['subscription_id']),
    eventId: String(row['event_id']),
    eventType: String(row['event_type']),
    orderingKey: String(row['ordering_key']),
    envelope: String(row['envelope']),
    status: row['status'] as DeliveryStatus,
    cause: row['cause'] as DeliveryCause,
    attempts: Number(row['attempts']),
    nextAttemptAt: String(row['next_attempt_at']),
    enqueuedAt: String(row['enqueued_at']),
    finishedAt: (row['finished_at'] as string | null) ?? null,
    lastError: (row['last_error'] as string | null) ?? null,
  };
}

function attemptOf(row: Row): AttemptRow {
  return {
    id: Number(row['id']),
    deliveryId: Number(row['delivery_id']),
    subscriptionId: String(row['subscription_id']),
    eventId: String(row['event_id']),
    attempt: Number(row['attempt']),
    startedAt: String(row['started_at']),
    durationMs: Number(row['duration_ms']),
    statusCode: row['status_code'] === null ? null : Number(row['status_code']),
    outcome: row['outcome'] as AttemptRow['outcome'],
    error: (row['error'] as string | null) ?? null,
  };
}

export class WebhookStore {
  constructor(private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async insertSubscription(manager: EntityManager, row: SubscriptionRow): Promise<void> {
    await query(
      manager,
      `INSERT INTO webhook_subscriptions (${SUBSCRIPTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.url,
        row.secret,
        row.secretFingerprint,
        JSON.stringify(row.types),
        row.service,
        row.format,
        row.timeoutMs,
        row.maxAttempts,
        row.createdAt,
        row.createdBy,
        row.deletedAt,
      ],
    );
  }

  async subscription(id: string, manager = this.manager): Promise<SubscriptionRow | undefined> {
    const rows = await query(
      manager,
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = ? AND deleted_at IS NULL`,
      [id],
    );
    return rows[0] ? subscriptionOf(rows[0]) : undefined;
  }

  async subscriptions(manager = this.manager): Promise<SubscriptionRow[]> {
    const rows = await query(
      manager,
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE deleted_at IS NULL ORDER BY created_at, id`,
    );
    return rows.map(subscriptionOf);
  }

  /** Marks it deleted and cancels what it still had to deliver; returns how many were cancelled. */
  async deleteSubscription(manager: EntityManager, id: string, at: string): Promise<number> {
    await query(manager, 'UPDATE webhook_subscriptions SET deleted_at = ? WHERE id = ?', [at, id]);
    const [count] = await query(
      manager,
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE subscription_id = ? AND status = 'pending'",
      [id],
    );
    await query(
      manager,
      "UPDATE webhook_deliveries SET status = 'cancelled', finished_at = ? WHERE subscription_id = ? AND status = 'pending'",
      [at, id],
    );
    return Number(count?.['n'] ?? 0);
  }

  /** Queues an event for a subscription, behind everything already queued for its key. */
  async enqueue(
    manager: EntityManager,
    subscriptionId: string,
    event: EventEnvelope,
    cause: DeliveryCause,
    now: string,
  ): Promise<void> {
    await query(
      manager,
      `INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, ordering_key, envelope, status, cause, attempts, next_attempt_at, enqueued_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?)`,
      [subscriptionId, event.id, event.type, event.key, JSON.stringify(event), cause, now, now],
    );
  }

  /**
   * The head of every (subscription, key) lane that is due: the oldest pending delivery of its
   * lane. A later one waits for it (head-of-line), so a key's events arrive in order.
   */
  async dueHeads(now: string, limit: number): Promise<DeliveryRow[]> {
    const rows = await query(
      this.manager,
      `SELECT ${DELIVERY_COLUMNS.split(', ')
        .map((c) => `d.${c}`)
        .join(', ')} FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= ?
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
           WHERE e.status = 'pending' AND e.subscription_id = d.subscription_id
             AND e.ordering_key = d.ordering_key AND e.id < d.id)
       ORDER BY d.id LIMIT ?`,
      [now, limit],
    );
    return rows.map(deliveryOf);
  }

  /** Records one attempt and moves its delivery on, in one transaction. */
  async recordAttempt(
    manager: EntityManager,
    attempt: Omit<AttemptRow, 'id'>,
    next: Pick<DeliveryRow, 'status' | 'nextAttemptAt' | 'finishedAt' | 'lastError'>,
  ): Promise<void> {
    await query(
      manager,
      `INSERT INTO webhook_attempts (delivery_id, subscription_id, event_id, attempt, started_at, duration_ms, status_code, outcome, error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        attempt.deliveryId,
        attempt.subscriptionId,
        attempt.eventId,
        attempt.attempt,
        attempt.startedAt,
        attempt.durationMs,
        attempt.statusCode,
        attempt.outcome,
        attempt.error,
      ],
    );
    // Only a pending delivery moves: one cancelled meanwhile (subscription deleted) stays so.
    await query(
      manager,
      `UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, finished_at = ?, last_error = ?
       WHERE id = ? AND status = 'pending'`,
      [
        next.status,
        attempt.attempt,
        next.nextAttemptAt,
        next.finishedAt,
        next.lastError,
        attempt.deliveryId,
      ],
    );
  }

  async deliveries(
    subscriptionId: string,
    status: DeliveryStatus,
    limit: number,
  ): Promise<DeliveryRow[]> {
    const rows = await query(
      this.manager,
      `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = ? AND status = ? ORDER BY id LIMIT ?`,
      [subscriptionId, status, limit],
    );
    return rows.map(deliveryOf);
  }

  async attempts(subscriptionId: string, limit: number): Promise<AttemptRow[]> {
    const rows = await query(
      this.manager,
      `SELECT id, delivery_id, subscription_id, event_id, attempt, started_at, duration_ms, status_code, outcome, error
       FROM webhook_attempts WHERE subscription_id = ? ORDER BY id DESC LIMIT ?`,
      [subscriptionId, limit],
    );
    return rows.map(attemptOf);
  }

  async counts(subscriptionId: string): Promise<Record<DeliveryStatus, number>> {
    const rows = await query(
      this.manager,
      'SELECT status, COUNT(*) AS n FROM webhook_deliveries WHERE subscription_id = ? GROUP BY status',
      [subscriptionId],
    );
    const counts = { pending: 0, delivered: 0, dead: 0, cancelled: 0 };
    for (const row of rows) counts[row['status'] as DeliveryStatus] = Number(row['n']);
    return counts;
  }

  /**
   * Dead letters back to pending with a fresh attempt budget (their attempts stay recorded).
   * They keep their place: each is again the head of its lane, before what came after it.
   */
  async redeliver(
    subscriptionId: string,
    deliveryIds: number[] | undefined,
    now: string,
  ): Promise<number> {
    const dead = await this.deliveries(subscriptionId, 'dead', 100_000);
    const chosen = deliveryIds ? dead.filter((d) => deliveryIds.includes(d.id)) : dead;
    for (const delivery of chosen) {
      await query(
        this.manager,
        `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL
         WHERE id = ? AND status = 'dead'`,
        [now, delivery.id],
      );
    }
    return chosen.length;
  }
}
