import type { EntityManager } from 'typeorm';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { Projection } from '@rollgate/persistence';
import { ReleaseRollbackRequestEntity } from './release-rollback-request.entity';

export interface ReleaseRollbackJob {
  id: string;
  service: string;
  releaseId: string;
  occurredAt: string;
}

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
export class ReleaseRollbackListener implements Projection {
  readonly name = 'migrations-release-rollbacks';
  readonly topics = [TOPICS.releases.name];

  constructor(private readonly handler: ReleaseRollbackHandler) {}

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (event.type !== 'ReleaseRolledBack') return;
    const data = event.data as { releaseId?: string; service?: string };
    if (!data.releaseId || !data.service) return;
    const requests = manager.getRepository(ReleaseRollbackRequestEntity);
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
