import type { EntityManager } from 'typeorm';
import {
  TOPICS,
  type EventEnvelope,
  type ReleaseAbortedV1,
  type ReleaseRequestedV1,
} from '@rollgate/contracts';
import type { Projection } from '@rollgate/persistence';
import { ReleaseEntity } from './release.entity';

/**
 * Folds release events into the `releases` table. Sequence numbers belong to the service
 * stream, so the last applied sequence is tracked per release row of that service.
 */
export class ReleaseProjection implements Projection {
  readonly name = 'releases';
  readonly topics = [TOPICS.releases.name];

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    const repository = manager.getRepository(ReleaseEntity);
    switch (event.type) {
      case 'ReleaseRequested': {
        const data = event.data as ReleaseRequestedV1;
        if (await repository.existsBy({ id: data.releaseId })) return;
        await repository.insert({
          id: data.releaseId,
          service: data.service,
          artifactName: data.artifact.name,
          artifactDigest: data.artifact.digest,
          strategy: data.strategy,
          status: 'requested',
          requestedBy: event.actor,
          requestedAt: event.occurredAt,
          updatedAt: event.occurredAt,
          statusReason: null,
          lastSequence: event.sequence ?? 0,
        });
        return;
      }
      case 'ReleaseAborted': {
        const data = event.data as ReleaseAbortedV1;
        const release = await repository.findOneBy({ id: data.releaseId });
        if (!release || release.lastSequence >= (event.sequence ?? 0)) return;
        await repository.update(
          { id: data.releaseId },
          {
            status: 'aborted',
            statusReason: data.reason,
            updatedAt: event.occurredAt,
            lastSequence: event.sequence ?? 0,
          },
        );
        return;
      }
      default:
        return;
    }
  }
}
