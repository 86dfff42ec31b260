import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ALL_TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { eventTypesOn, readModelEvents, type EventLogContext } from '@rollgate/platform';
import type { EntityManager } from 'typeorm';
import { compileFilter } from './event-filter';
import type { SubscriptionRow } from './webhook-store';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Queues a delivery for every subscription an event matches, in the transaction that moves the
 * checkpoint: an event is queued exactly once, and a crash in between queues it again with the
 * checkpoint. Subscriptions are read from their table, written when they are created, so every
 * event logged after a subscription's creation reaches it.
 */
@Controller()
export class WebhookDeliveryProjection {
  /** Subscriptions as the batch's transaction reads them: once per batch, not once per event. */
  private readonly inBatch = new WeakMap<EntityManager, Promise<SubscriptionRow[]>>();

  constructor(private readonly subscriptions: SubscriptionsService) {}

  @EventPattern(readModelEvents('webhook-deliveries', ...ALL_TOPICS.flatMap(eventTypesOn)))
  async queue(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    const manager = context.getManager();
    const store = this.subscriptions.store;
    const at = new Date().toISOString();
    let subscriptions = this.inBatch.get(manager);
    if (!subscriptions) {
      subscriptions = store.subscriptions(manager);
      this.inBatch.set(manager, subscriptions);
    }
    for (const subscription of await subscriptions) {
      if (compileFilter(subscription)(event))
        await store.enqueue(manager, subscription.id, event, 'live', at);
    }
  }
}
