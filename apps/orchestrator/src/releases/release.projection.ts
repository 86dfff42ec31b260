import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { wakeUpOnCommit } from '@rollgate/persistence';
import { eventTypesOn, readModelEvents, type EventLogContext } from '@rollgate/platform';
import { evolveReleaseSummary, type Release } from '@rollgate/releases';
import { SIGNALS_WAKE_UP } from '../rollout/signals.projection';
import { ReleaseEntity } from './release.entity';

/**
 * Folds release events into the `releases` table with the same pure fold the write side uses,
 * and wakes the replica that drives the service (Reconciler) when they commit.
 */
@Controller()
export class ReleaseProjection {
  @EventPattern(readModelEvents('releases', ...eventTypesOn(TOPICS.releases)))
  async apply(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    const releaseId = (event.data as { releaseId?: string | null }).releaseId;
    if (!releaseId) return;
    const repository = context.getManager().getRepository(ReleaseEntity);
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
    // A new release, a user's command, or the owner's own decision: the owner looks at once.
    await wakeUpOnCommit(context.getManager(), SIGNALS_WAKE_UP, after.service);
  }
}
