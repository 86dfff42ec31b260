import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { Projection } from '@rollgate/persistence';

export interface ReleaseRollbackHandler {
  onReleaseRolledBack(event: {
    id: string;
    service: string;
    releaseId: string;
    occurredAt: string;
  }): Promise<void>;
}

/**
 * Hears `ReleaseRolledBack` on rollgate.releases. The rollback itself runs outside the consumer's
 * transaction (it may wait on locks for a while); the handler decides which migrations it concerns.
 */
export class ReleaseRollbackListener implements Projection {
  readonly name = 'migrations-release-rollbacks';
  readonly topics = [TOPICS.releases.name];

  constructor(private readonly handler: ReleaseRollbackHandler) {}

  async apply(_manager: unknown, event: EventEnvelope): Promise<void> {
    if (event.type !== 'ReleaseRolledBack') return;
    const data = event.data as { releaseId?: string; service?: string };
    if (!data.releaseId || !data.service) return;
    const job = {
      id: event.id,
      service: data.service,
      releaseId: data.releaseId,
      occurredAt: event.occurredAt,
    };
    setImmediate(() => void this.handler.onReleaseRolledBack(job));
  }
}
