import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Inject,
} from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import {
  TOPICS,
  type AnalysisIntervalScoredV1,
  type AnalysisRequestedV1,
  type EventEnvelope,
  type NewEvent,
  type Verdict,
} from '@rollgate/contracts';
import { createJudge, type JudgeVerdict } from '@rollgate/judges';
import { EventStore, inTransaction, type Projection } from '@rollgate/persistence';
import { SERVICE_RUNTIME, type ServiceRuntime } from '@rollgate/platform';
import { AnalysisRunEntity } from './analysis-run.entity';
import { minus, wentBackwards, type GroupCounters, type MetricSource } from './metric-source';

export const METRIC_SOURCE = Symbol('METRIC_SOURCE');
/** This many NODATA intervals in a row end the run as FAIL: an outage never promotes. */
export const MAX_NODATA_INTERVALS = 3;

const ORIGIN = { actor: 'service:analysis', causationId: null };

/** Error indicators (1 = failed request) in arrival order, interval after interval. */
function indicators(intervals: { requests: number; errors: number }[]): number[] {
  return intervals.flatMap(({ requests, errors }) => [
    ...Array<number>(errors).fill(1),
    ...Array<number>(Math.max(0, requests - errors)).fill(0),
  ]);
}

/** Records each AnalysisRequested as a run, with the source's counters at that moment. */
export class AnalysisRequestHandler implements Projection {
  readonly name = 'analysis-requests';
  readonly topics = [TOPICS.analysis.name];

  constructor(private readonly source: MetricSource) {}

  async apply(manager: EntityManager, event: EventEnvelope): Promise<void> {
    if (event.type !== 'AnalysisRequested') return;
    const request = event.data as AnalysisRequestedV1;
    if (await manager.existsBy(AnalysisRunEntity, { runId: request.analysisRunId })) return;
    const counters = await this.source.counters(request.service).catch(() => null);
    await manager.insert(AnalysisRunEntity, {
      runId: request.analysisRunId,
      request: JSON.stringify(request),
      startedAt: new Date().toISOString(),
      startCounters: counters ? JSON.stringify(counters) : null,
      done: false,
    });
  }
}

/**
 * Scores every open run once per interval: reads the source, compares canary with baseline with
 * the requested judge, and emits AnalysisIntervalScored, then AnalysisVerdictReached once the
 * judge is conclusive or the run is out of intervals. Interval timers are rebuilt from the runs
 * table and the log after a restart.
 */
@Injectable()
export class AnalysisRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('analysis');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(METRIC_SOURCE) private readonly source: MetricSource,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), 250);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  tick(): Promise<void> {
    this.running ??= this.scoreDueRuns()
      .catch((error: unknown) => this.logger.error(`analysis tick failed: ${String(error)}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async scoreDueRuns(): Promise<void> {
    const open = await this.runtime.dataSource.manager.findBy(AnalysisRunEntity, { done: false });
    for (const run of open) await this.score(run);
  }

  private async score(run: AnalysisRunEntity): Promise<void> {
    const request = JSON.parse(run.request) as AnalysisRequestedV1;
    const streamId = `analysis:${run.runId}`;
    const history = await this.eventStore.load(streamId);
    const scored = history
      .filter((e) => e.type === 'AnalysisIntervalScored')
      .map((e) => e.data as AnalysisIntervalScoredV1);
    const dueAt = Date.parse(run.startedAt) + (scored.length + 1) * request.intervalSeconds * 1000;
    if (Date.now() < dueAt) return;
    const interval = await this.readInterval(run, scored);
    const intervals = [...scored.map(sideCounts), ...(interval ? [interval] : [])];
    const last = scored.length + 1 >= request.maxIntervals;
    const verdict = this.judge(request.judge, intervals, last);
    // No traffic at all in an interval is no data too: a dead data plane must not look quiet.
    const empty = !interval || (interval.canary.requests === 0 && interval.baseline.requests === 0);
    const nodataStreak = empty ? 1 + trailingNodata(scored) : 0;
    const events: NewEvent[] = [this.intervalEvent(request, scored.length, interval, verdict)];
    const final = this.finalVerdict(verdict.verdict, nodataStreak, last);
    if (final) {
      const reasons =
        final === 'FAIL' && verdict.verdict === 'NODATA'
          ? [`no data for ${nodataStreak} intervals in a row: failing safe`, ...verdict.reasons]
          : verdict.reasons;
      events.push({
        ...this.envelope(request),
        type: 'AnalysisVerdictReached',
        data: {
          analysisRunId: request.analysisRunId,
          releaseId: request.releaseId,
          service: request.service,
          verdict: final,
          score: verdict.score,
          reasons,
        },
      });
    }
    await inTransaction(this.runtime.dataSource, async (manager) => {
      await this.eventStore.appendInTransaction(manager, streamId, history.length, events);
      if (final) await manager.update(AnalysisRunEntity, { runId: run.runId }, { done: true });
    });
    this.runtime.relay.kick();
  }

  /** This interval's counts, or null when the source could not be read (NODATA). */
  private async readInterval(
    run: AnalysisRunEntity,
    scored: AnalysisIntervalScoredV1[],
  ): Promise<GroupCounters | null> {
    if (!run.startCounters) return null;
    const now = await this.source.counters(JSON.parse(run.request).service).catch(() => null);
    if (!now) return null;
    const sinceStart = minus(now, JSON.parse(run.startCounters) as GroupCounters, true);
    const before = scored.reduce(
      (sum, s) => ({
        canary: {
          requests: sum.canary.requests + s.canary.requests,
          errors: sum.canary.errors + s.canary.errors,
        },
        baseline: {
          requests: sum.baseline.requests + s.baseline.requests,
          errors: sum.baseline.errors + s.baseline.errors,
        },
      }),
      { canary: { requests: 0, errors: 0 }, baseline: { requests: 0, errors: 0 } },
    );
    if (wentBackwards(sinceStart, before)) {
      // The source restarted and its counters began again: rebase, and count this interval as
      // having no data rather than reading a negative difference as a quiet canary.
      const rebased = minus(now, before, true);
      await this.runtime.dataSource.manager.update(
        AnalysisRunEntity,
        { runId: run.runId },
        { startCounters: JSON.stringify(rebased) },
      );
      return null;
    }
    return minus(sinceStart, before);
  }

  /**
   * The requested judge on everything seen so far. A sequential judge may stay inconclusive at
   * the end of the window (it needs much data to prove "no regression"); the window then closes
   * like a fixed-horizon analysis, with the kayenta judge on the same data.
   */
  private judge(name: string, intervals: GroupCounters[], last: boolean): JudgeVerdict {
    const baseline = indicators(intervals.map((i) => i.baseline));
    const canary = indicators(intervals.map((i) => i.canary));
    if (baseline.length === 0 || canary.length === 0) {
      return {
        verdict: 'NODATA',
        score: 0,
        metrics: [],
        reasons: ['no requests reached the canary or the baseline yet'],
      };
    }
    const request = {
      metrics: [
        { name: 'error-rate', baseline, canary, direction: 'increase' as const, critical: true },
      ],
    };
    const verdict = createJudge(name).judge(request);
    if (!last || name !== 'sequential' || verdict.verdict !== 'MARGINAL') return verdict;
    const horizon = createJudge('kayenta').judge(request);
    return {
      ...horizon,
      reasons: [
        `sequential judge inconclusive at the end of the window; fixed-horizon kayenta judge: ${horizon.verdict}`,
        ...horizon.reasons,
      ],
    };
  }

  /** PASS and FAIL end a run; NODATA ends it as FAIL after a streak; at the last interval the reading stands. */
  private finalVerdict(verdict: Verdict, nodataStreak: number, last: boolean): Verdict | null {
    if (verdict === 'PASS' || verdict === 'FAIL') return verdict;
    if (nodataStreak >= MAX_NODATA_INTERVALS) return 'FAIL';
    return last ? verdict : null;
  }

  private envelope(request: AnalysisRequestedV1) {
    return {
      version: 1,
      actor: ORIGIN.actor,
      causationId: ORIGIN.causationId,
      correlationId: request.releaseId,
      key: request.service,
    };
  }

  private intervalEvent(
    request: AnalysisRequestedV1,
    index: number,
    interval: GroupCounters | null,
    verdict: JudgeVerdict,
  ): NewEvent {
    const data: AnalysisIntervalScoredV1 = {
      analysisRunId: request.analysisRunId,
      releaseId: request.releaseId,
      service: request.service,
      interval: index,
      verdict: interval ? verdict.verdict : 'NODATA',
      score: verdict.score,
      reasons: interval ? verdict.reasons : [`metric source ${this.source.kind} gave no data`],
      canary: interval?.canary ?? { requests: 0, errors: 0 },
      baseline: interval?.baseline ?? { requests: 0, errors: 0 },
    };
    return { ...this.envelope(request), type: 'AnalysisIntervalScored', data };
  }
}

function sideCounts(scored: AnalysisIntervalScoredV1): GroupCounters {
  return {
    canary: { requests: scored.canary.requests, errors: scored.canary.errors },
    baseline: { requests: scored.baseline.requests, errors: scored.baseline.errors },
  };
}

function trailingNodata(scored: AnalysisIntervalScoredV1[]): number {
  let streak = 0;
  for (
    let i = scored.length - 1;
    i >= 0 && scored[i]!.verdict === 'NODATA' && scored[i]!.canary.requests === 0;
    i--
  )
    streak++;
  return streak;
}
