import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type {
  AnalysisShareRaiseRequestedV1,
  AnalysisVerdictReachedV1,
  EventEnvelope,
  RouteApplyFailedV1,
  RouteAppliedV1,
} from '@rollgate/contracts';
import { wakeUpOnCommit } from '@rollgate/persistence';
import { readModelEvents, type EventLogContext } from '@rollgate/platform';
import {
  AnalysisVerdictEntity,
  RouteAnswerEntity,
  ShareRaiseRequestEntity,
} from './signals.entity';

const SIGNALS = 'release-signals';
/** Wakes the replica that drives the service (Reconciler) when a signal for it commits. */
export const SIGNALS_WAKE_UP = 'release_signals';

/**
 * What other services answered the orchestrator: route confirmations, analysis verdicts and the
 * analysis' requests for larger shares.
 */
@Controller()
export class ReleaseSignalsProjection {
  @EventPattern(readModelEvents(SIGNALS, 'RouteApplied'))
  async routeApplied(
    @Payload() event: EventEnvelope<RouteAppliedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const data = event.data;
    if (!data.requestId || !data.releaseId) return;
    await context.getManager().save(RouteAnswerEntity, {
      requestId: data.requestId,
      releaseId: data.releaseId,
      outcome: 'applied',
      reason: null,
    });
    await wakeUpOnCommit(context.getManager(), SIGNALS_WAKE_UP, data.service);
  }

  @EventPattern(readModelEvents(SIGNALS, 'RouteApplyFailed'))
  async routeApplyFailed(
    @Payload() event: EventEnvelope<RouteApplyFailedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const data = event.data;
    await context.getManager().save(RouteAnswerEntity, {
      requestId: data.requestId,
      releaseId: data.releaseId,
      outcome: 'failed',
      reason: data.reason,
    });
    await wakeUpOnCommit(context.getManager(), SIGNALS_WAKE_UP, data.service);
  }

  @EventPattern(readModelEvents(SIGNALS, 'AnalysisVerdictReached'))
  async verdictReached(
    @Payload() event: EventEnvelope<AnalysisVerdictReachedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const data = event.data;
    await context.getManager().save(AnalysisVerdictEntity, {
      analysisRunId: data.analysisRunId,
      releaseId: data.releaseId,
      verdict: data.verdict,
      reasons: JSON.stringify(data.reasons),
    });
    await wakeUpOnCommit(context.getManager(), SIGNALS_WAKE_UP, data.service);
  }

  @EventPattern(readModelEvents(SIGNALS, 'AnalysisShareRaiseRequested'))
  async shareRaiseRequested(
    @Payload() event: EventEnvelope<AnalysisShareRaiseRequestedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const data = event.data;
    await context.getManager().save(ShareRaiseRequestEntity, {
      analysisRunId: data.analysisRunId,
      releaseId: data.releaseId,
      step: data.step,
      fromPercent: data.fromPercent,
      toPercent: data.toPercent,
      reason: data.reason,
    });
    await wakeUpOnCommit(context.getManager(), SIGNALS_WAKE_UP, data.service);
  }
}
