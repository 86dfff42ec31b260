import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventEnvelope } from '@rollgate/contracts';
import { readModelEvents, type EventLogContext } from '@rollgate/platform';
import { ReleaseRollbackRequestEntity } from './release-rollback-request.entity';

export interface ReleaseRollbackJob {
  id: string;
  service: string;
  releaseId: string;
  occurredAt: string;
}

/** Injection token of the ReleaseRollbackHandler (the migrations service). */
export const RELEASE_ROLLBACK_HANDLER = Symbol('RELEASE_ROLLBACK_HANDLER');

export interface ReleaseRollbackHandler {
  /** Acts on a recorded request; throws when it cannot decide yet (it is retried later). */
  onReleaseRolledBack(job: ReleaseRollbackJob): Promise<void>;
  /** A request was recorded: look at the queue soon. */
  releaseRollbackRecorded(): void;
}

/**
 * Hears `ReleaseRolledBack` on rollgate.releases and records it in the same transaction as the
 * consumer's checkpoint. The rollback itself runs outside that transaction (it may wait on locks
 * for a while) from the recorded row, which is only deleted once it has been acted on.
 */
@Controller()
export class ReleaseRollbackListener {
  constructor(@Inject(RELEASE_ROLLBACK_HANDLER) private readonly handler: ReleaseRollbackHandler) {}

  @EventPattern(readModelEvents('migrations-release-rollbacks', 'ReleaseRolledBack'))
  async releaseRolledBack(
    @Payload() event: EventEnvelope,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const data = event.data as { releaseId?: string; service?: string };
    if (!data.releaseId || !data.service) return;
    const requests = context.getManager().getRepository(ReleaseRollbackRequestEntity);
    if (await requests.findOneBy({ eventId: event.id })) return;
    await requests.insert({
      eventId: event.id,
      service: data.service,
      releaseId: data.releaseId,
      occurredAt: event.occurredAt,
      attempts: 0,
      lastError: null,
    });
    this.handler.releaseRollbackRecorded();
  }
}
