import type { EntityManager } from 'typeorm';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { Projection } from '@rollgate/persistence';
import { evolveReleaseSummary, type Release } from '@rollgate/releases';
import { ReleaseEntity } from './release.entity';

/** Folds release events into the `releases` table with the same pure fold the write side uses. */
export class ReleaseProjection implements Projection {
  readonly name = 'releases';
  readonly topics = [TOPICS.releases.name];

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    const releaseId = (event.data as { releaseId?: string | null }).releaseId;
    if (!releaseId) return;
    const repository = manager.getRepository(ReleaseEntity);
    const row = await repository.findOneBy({ id: releaseId });
    // Sequences count the service stream: an event at or below the last one folded is a repeat.
    if (row && row.lastSequence >= (event.sequence ?? 0)) return;
    const before = row ? (JSON.parse(row.summary) as Release) : undefined;
    const after = evolveReleaseSummary(before, event);
    if (!after) return;
    await repository.save({
      id: releaseId,
      service: after.service,
      phase: after.phase,
      requestedAt: row?.requestedAt ?? event.occurredAt,
      requestedBy: row?.requestedBy ?? event.actor,
      summary: JSON.stringify(after),
      lastSequence: event.sequence ?? 0,
    });
  }
}
