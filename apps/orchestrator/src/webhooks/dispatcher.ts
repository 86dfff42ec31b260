import { Logger } from '@nestjs/common';
import {
  WEBHOOK_SIGNATURE_HEADER,
  webhookSignature,
  type EventEnvelope,
} from '@rollgate/contracts';
import { inTransaction } from '@rollgate/persistence';
import { SOLE_OWNER, type WorkOwnership } from '@rollgate/platform';
import { retryDelayMs } from './backoff';
import type { DeliveryRow, SubscriptionRow, WebhookStore } from './webhook-store';
import { webhookRequest } from './wire-format';

const HEADS_PER_TICK = 1_000;

export interface DispatcherOptions {
  /** How often due deliveries are looked for. */
  pollMs?: number;
  /** Deliveries in flight at once, over every subscription and key. */
  concurrency?: number;
  now?: () => Date;
  random?: () => number;
  /** Which subscriptions this replica sends for; stopped with the dispatcher. Default: all. */
  ownership?: WorkOwnership;
}

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
}

/**
 * Sends what the delivery projection queued: per (subscription, key) one delivery at a time, in
 * queue order; a failed one is retried with backoff and blocks its lane until it succeeds or is
 * dead-lettered after the subscription's max attempts. Every attempt is recorded.
 */
export class WebhookDispatcher {
  private readonly logger = new Logger('webhooks');
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private readonly sending = new Set<Promise<void>>();
  /** Aborts the requests in flight when the process stops: they are retried after a restart. */
  private readonly stopping = new AbortController();
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly ownership: WorkOwnership;

  constructor(
    private readonly store: WebhookStore,
    options: DispatcherOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 200;
    this.concurrency = options.concurrency ?? 16;
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.ownership = options.ownership ?? SOLE_OWNER;
  }

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.stopping.abort();
    await this.ticking;
    await Promise.all([...this.sending]);
    await this.ownership.stop();
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch((error: unknown) => this.logger.error(`webhook dispatch failed: ${String(error)}`))
        .finally(() => this.schedule(this.pollMs));
    }, delayMs);
  }

  /** Starts the due lane heads that are not already being sent. */
  async tick(): Promise<void> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0) return;
    // Lanes of subscriptions other replicas own come back too (the partition is not in SQL):
    // read enough heads that this replica's own lanes are among them.
    const heads = await this.store.dueHeads(this.now().toISOString(), HEADS_PER_TICK);
    const subscriptions = new Map<string, SubscriptionRow | undefined>();
    for (const head of heads) {
      const lane = `${head.subscriptionId}\u0000${head.orderingKey}`;
      if (this.inFlight.has(lane) || this.inFlight.size >= this.concurrency) continue;
      if (!this.ownership.owns(head.subscriptionId)) continue;
      if (!subscriptions.has(head.subscriptionId))
        subscriptions.set(head.subscriptionId, await this.store.subscription(head.subscriptionId));
      const subscription = subscriptions.get(head.subscriptionId);
      if (!subscription) continue;
      this.inFlight.add(lane);
      const sending = this.deliver(subscription, head)
        .catch((error: unknown) =>
          this.logger.error(`webhook delivery ${head.id} failed to record: ${String(error)}`),
        )
        .finally(() => {
          this.inFlight.delete(lane);
          this.sending.delete(sending);
        });
      this.sending.add(sending);
    }
  }

  /** One attempt of one delivery, then its record. */
  async deliver(subscription: SubscriptionRow, delivery: DeliveryRow): Promise<void> {
    const attempt = delivery.attempts + 1;
    const event = JSON.parse(delivery.envelope) as EventEnvelope;
    const request = webhookRequest(event, subscription.format);
    const started = this.now();
    const result = request
      ? await this.send(subscription, delivery, attempt, request)
      : { statusCode: null, error: `format ${subscription.format} does not carry ${event.type}` };
    const durationMs = Math.max(0, this.now().getTime() - started.getTime());
    const delivered = result.error === null;
    const dead = !delivered && (attempt >= subscription.maxAttempts || request === null);
    const finishedAt = this.now().toISOString();
    await inTransaction(this.store.manager.connection, (manager) =>
      this.store.recordAttempt(
        manager,
        {
          deliveryId: delivery.id,
          subscriptionId: subscription.id,
          eventId: delivery.eventId,
          attempt,
          startedAt: started.toISOString(),
          durationMs,
          statusCode: result.statusCode,
          outcome: delivered ? 'delivered' : 'failed',
          error: result.error,
        },
        {
          status: delivered ? 'delivered' : dead ? 'dead' : 'pending',
          nextAttemptAt:
            delivered || dead
              ? delivery.nextAttemptAt
              : new Date(this.now().getTime() + retryDelayMs(attempt, this.random)).toISOString(),
          finishedAt: delivered || dead ? finishedAt : null,
          lastError: result.error,
        },
      ),
    );
    if (dead)
      this.logger.warn(
        `webhook delivery ${delivery.id} (${delivery.eventType} ${delivery.eventId}) to subscription ${subscription.id} dead-lettered after ${attempt} attempts: ${result.error}`,
      );
  }

  /** POSTs the signed request; any 2xx is delivered, anything else (or no answer) is retried. */
  private async send(
    subscription: SubscriptionRow,
    delivery: DeliveryRow,
    attempt: number,
    request: { headers: Record<string, string>; body: string },
  ): Promise<AttemptResult> {
    // Signed at each attempt: a retry after the replay window must still verify.
    const timestamp = Math.floor(this.now().getTime() / 1000);
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        headers: {
          ...request.headers,
          'user-agent': 'rollgate-webhooks/1',
          'rollgate-delivery': String(delivery.id),
          'rollgate-attempt': String(attempt),
          [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(
            subscription.secret,
            timestamp,
            request.body,
          ),
        },
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.any([
          AbortSignal.timeout(subscription.timeoutMs),
          this.stopping.signal,
        ]),
      });
      // The answer's body is not read: a receiver cannot make us hold a large one.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300)
        return { statusCode: response.status, error: null };
      return { statusCode: response.status, error: `HTTP ${response.status}` };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const name = (error as Error).name;
      const message =
        name === 'TimeoutError'
          ? `no answer within ${subscription.timeoutMs} ms`
          : this.stopping.signal.aborted
            ? 'the orchestrator stopped before the answer'
            : `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
      return { statusCode: null, error: message.slice(0, 500) };
    }
  }
}
