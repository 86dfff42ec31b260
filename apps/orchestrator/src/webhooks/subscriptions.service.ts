import {
  BadRequestException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import {
  ALL_TOPICS,
  eventCatalog,
  type EventEnvelope,
  type SubscriptionCreatedV1,
  type SubscriptionDeletedV1,
  type WebhookFormat,
} from '@rollgate/contracts';
import { inTransaction, recordWrites } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type AuthPrincipal, type ServiceRuntime } from '@rollgate/platform';
import { compileFilter, filterProblems } from './event-filter';
import { WebhookStore, type SubscriptionRow } from './webhook-store';

export interface SubscriptionRequest {
  url: string;
  types: string[];
  service?: string;
  secret: string;
  format?: WebhookFormat;
  timeoutMs?: number;
  maxAttempts?: number;
}

export interface ReplayRequest {
  fromOffset?: number;
  fromTime?: string;
  topic?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_ATTEMPTS = 20;
/** A replay is queued in one transaction: bounded, so one request cannot hold the database. */
export const MAX_REPLAY_EVENTS = 100_000;

const invalid = (field: string, problem: string) =>
  new BadRequestException({ message: 'validation failed', details: [{ field, problem }] });

/** `sha256:` and 16 hex digits of the secret's SHA-256: enough to tell two secrets apart. */
export const secretFingerprint = (secret: string) =>
  `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;

/** The URL as a target: http(s) only, and no credentials in it (the secret signs instead). */
function parseTarget(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('url', 'must be an absolute http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalid('url', 'must be an http or https URL');
  if (parsed.username || parsed.password)
    throw invalid('url', 'must not carry a user or password; the signature authenticates');
  return parsed;
}

/** Webhook subscriptions: each change is an event (stream `subscription-<id>`) and a row. */
@Injectable()
export class SubscriptionsService {
  readonly store: WebhookStore;

  constructor(@Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime) {
    this.store = new WebhookStore(runtime.dataSource);
  }

  async create(input: SubscriptionRequest, principal: AuthPrincipal) {
    const target = parseTarget(input.url);
    const format = input.format ?? 'binary';
    const published = [...new Set(eventCatalog.all().map((d) => d.type))];
    const problems = filterProblems(input.types, published, format);
    if (problems.length > 0)
      throw new BadRequestException({ message: 'validation failed', details: problems });
    // A token limited to some services may only watch those, one subscription per service.
    if (principal.services !== undefined) {
      if (input.service === undefined)
        throw new ForbiddenException(
          `token of ${principal.subject} is limited to services: name one in service`,
        );
      if (!principal.mayTouchService(input.service))
        throw new ForbiddenException(
          `token of ${principal.subject} may not touch service ${input.service}`,
        );
    }
    const id = uuidv7();
    const row: SubscriptionRow = {
      id,
      url: target.toString(),
      secret: input.secret,
      secretFingerprint: secretFingerprint(input.secret),
      types: [...new Set(input.types)],
      service: input.service ?? null,
      format,
      timeoutMs: input.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      createdAt: new Date().toISOString(),
      createdBy: principal.actor,
      deletedAt: null,
    };
    const data: SubscriptionCreatedV1 = {
      subscriptionId: id,
      origin: target.origin,
      types: [...row.types],
      ...(row.service ? { service: row.service } : {}),
      format,
      secretFingerprint: row.secretFingerprint,
      timeoutMs: row.timeoutMs,
      maxAttempts: row.maxAttempts,
    };
    const events = await this.append(principal, id, 'SubscriptionCreated', async (manager) => {
      await this.store.insertSubscription(manager, row);
      return data;
    });
    return { subscriptionId: id, eventIds: events.map((e) => e.id) };
  }

  async delete(id: string, principal: AuthPrincipal) {
    await this.get(id, principal);
    try {
      const events = await this.append(principal, id, 'SubscriptionDeleted', async (manager) => {
        const cancelled = await this.store.deleteSubscription(
          manager,
          id,
          new Date().toISOString(),
        );
        return {
          subscriptionId: id,
          cancelledDeliveries: cancelled,
        } satisfies SubscriptionDeletedV1;
      });
      return { subscriptionId: id, eventIds: events.map((e) => e.id) };
    } catch (error) {
      // Two deletes at once: the loser's event conflicts with the winner's.
      if (!(await this.store.subscription(id)))
        throw new NotFoundException(`subscription ${id} not found`);
      throw error;
    }
  }

  /** The row change and its event in one transaction; the outbox publishes the event. */
  private async append(
    principal: AuthPrincipal,
    id: string,
    type: 'SubscriptionCreated' | 'SubscriptionDeleted',
    change: (manager: EntityManager) => Promise<object>,
  ): Promise<EventEnvelope[]> {
    const streamId = `subscription-${id}`;
    const events = await inTransaction(this.runtime.dataSource, async (manager) => {
      const data = await change(manager);
      const history = await this.runtime.eventStore.load(streamId, manager);
      return this.runtime.eventStore.appendInTransaction(manager, streamId, history.length, [
        {
          type,
          version: 1,
          actor: principal.actor,
          correlationId: id,
          causationId: null,
          key: id,
          data,
        },
      ]);
    });
    recordWrites(events);
    this.runtime.relay.kick();
    return events;
  }

  /** 404 for an unknown (or deleted) id; 403 when the token may not touch its service. */
  async get(id: string, principal: AuthPrincipal | undefined): Promise<SubscriptionRow> {
    const subscription = id.length <= 64 ? await this.store.subscription(id) : undefined;
    if (!subscription) throw new NotFoundException(`subscription ${id} not found`);
    if (
      principal?.services !== undefined &&
      (subscription.service === null || !principal.mayTouchService(subscription.service))
    )
      throw new ForbiddenException(
        `token of ${principal.subject} may not touch subscription ${id}`,
      );
    return subscription;
  }

  async list(principal: AuthPrincipal | undefined): Promise<SubscriptionRow[]> {
    const all = await this.store.subscriptions();
    return principal?.services === undefined
      ? all
      : all.filter((s) => s.service !== null && principal.mayTouchService(s.service));
  }

  /**
   * Queues again, for this subscription, every matching event of the log from an offset (of
   * each partition) or a time. Receivers see the same CloudEvent ids as the first time.
   */
  async replay(id: string, request: ReplayRequest, principal: AuthPrincipal) {
    const subscription = await this.get(id, principal);
    if ((request.fromOffset === undefined) === (request.fromTime === undefined))
      throw invalid('fromOffset', 'give exactly one of fromOffset and fromTime');
    const from = request.fromTime === undefined ? undefined : Date.parse(request.fromTime);
    const matches = compileFilter(subscription);
    const topics = request.topic ? [request.topic] : ALL_TOPICS.map((t) => t.name);
    const queued: EventEnvelope[] = [];
    for (const topic of topics) {
      for await (const logged of this.runtime.log.readRange({
        topic,
        fromOffset: request.fromOffset ?? 0,
        onMalformed: 'skip',
      })) {
        if (from !== undefined && Date.parse(logged.event.occurredAt) < from) continue;
        if (!matches(logged.event)) continue;
        if (queued.length >= MAX_REPLAY_EVENTS)
          throw invalid(
            request.fromTime === undefined ? 'fromOffset' : 'fromTime',
            `matches more than ${MAX_REPLAY_EVENTS} events: start later or name a topic`,
          );
        queued.push(logged.event);
      }
    }
    const now = new Date().toISOString();
    await inTransaction(this.runtime.dataSource, async (manager) => {
      for (const event of queued) await this.store.enqueue(manager, id, event, 'replay', now);
    });
    return { enqueued: queued.length };
  }

  async redeliver(id: string, deliveryIds: number[] | undefined, principal: AuthPrincipal) {
    await this.get(id, principal);
    if (deliveryIds) {
      const dead = new Set((await this.store.deliveries(id, 'dead', 100_000)).map((d) => d.id));
      const unknown = deliveryIds.find((d) => !dead.has(d));
      if (unknown !== undefined)
        throw invalid(
          'deliveryIds',
          `delivery ${unknown} is not a dead letter of subscription ${id}`,
        );
    }
    return {
      redelivered: await this.store.redeliver(id, deliveryIds, new Date().toISOString()),
    };
  }
}
