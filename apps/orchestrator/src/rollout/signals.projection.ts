import type { EntityManager } from 'typeorm';
import {
  TOPICS,
  type AnalysisVerdictReachedV1,
  type EventEnvelope,
  type RouteApplyFailedV1,
  type RouteAppliedV1,
} from '@rollgate/contracts';
import type { Projection } from '@rollgate/persistence';
import { AnalysisVerdictEntity, RouteAnswerEntity } from './signals.entity';

/** What other services answered the orchestrator: route confirmations and analysis verdicts. */
export class ReleaseSignalsProjection implements Projection {
  readonly name = 'release-signals';
  readonly topics = [TOPICS.routing.name, TOPICS.analysis.name];

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    switch (event.type) {
      case 'RouteApplied': {
        const data = event.data as RouteAppliedV1;
        if (!data.requestId || !data.releaseId) return;
        await manager.save(RouteAnswerEntity, {
          requestId: data.requestId,
          releaseId: data.releaseId,
          outcome: 'applied',
          reason: null,
        });
        return;
      }
      case 'RouteApplyFailed': {
        const data = event.data as RouteApplyFailedV1;
        await manager.save(RouteAnswerEntity, {
          requestId: data.requestId,
          releaseId: data.releaseId,
          outcome: 'failed',
          reason: data.reason,
        });
        return;
      }
      case 'AnalysisVerdictReached': {
        const data = event.data as AnalysisVerdictReachedV1;
        await manager.save(AnalysisVerdictEntity, {
          analysisRunId: data.analysisRunId,
          releaseId: data.releaseId,
          verdict: data.verdict,
          reasons: JSON.stringify(data.reasons),
        });
        return;
      }
      default:
        return;
    }
  }
}
