import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ALL_TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { eventTypesOn, readModelEvents, type EventLogContext } from '@rollgate/platform';
import { compileFilter } from './event-filter';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Queues a delivery for every subscription an event matches, in the transaction that moves the
 * checkpoint: an event is queued exactly once, and a crash in between queues it again with the
 * checkpoint. Subscriptions are read from their table, written when they are created, so every
 * event logged after a subscription's creation reaches it.
 */
@Controller()
export class WebhookDeliveryProjection {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @EventPattern(readModelEvents('webhook-deliveries', ...ALL_TOPICS.flatMap(eventTypesOn)))
  async queue(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    const manager = context.getManager();
    const store = this.subscriptions.store;
    const at = new Date().toISOString();
    for (const subscription of await store.subscriptions(manager)) {
      if (compileFilter(subscription)(event))
        await store.enqueue(manager, subscription.id, event, 'live', at);
    }
  }
}
