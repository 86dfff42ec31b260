import {
  Inject,
  Module,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS } from '@rollgate/contracts';
import { claimWorkByPartition, SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { WebhookDeliveryProjection } from './delivery.projection';
import { WebhookDispatcher } from './dispatcher';
import { Webhooks1764000000900 } from './migrations/1764000000900-webhooks';
import { SubscriptionsController } from './subscriptions.controller';
import { SubscriptionsService } from './subscriptions.service';

/** The webhook tables: no entities (plain SQL), so `audit rebuild` does not compare them. */
export const WEBHOOKS_MIGRATIONS = [Webhooks1764000000900];

/**
 * Webhook subscriptions, the consumer that queues their deliveries (a runtime handler, not a
 * read model: what was sent and when is not derivable from the log) and the dispatcher.
 */
@Module({
  controllers: [SubscriptionsController, WebhookDeliveryProjection],
  providers: [SubscriptionsService],
})
export class WebhooksModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private dispatcher: WebhookDispatcher | undefined;

  constructor(
    private readonly subscriptions: SubscriptionsService,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
  ) {}

  /** Replicas share the lanes by subscription: each sends for the partitions it owns (ADR 0015). */
  async onApplicationBootstrap(): Promise<void> {
    const ownership = await claimWorkByPartition(this.runtime, {
      loop: 'webhooks',
      topic: TOPICS.subscriptions,
    });
    this.dispatcher = new WebhookDispatcher(this.subscriptions.store, { ownership });
    this.dispatcher.start();
  }

  /** Before the runtime closes the database the dispatcher records attempts in. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.dispatcher?.stop();
  }
}
