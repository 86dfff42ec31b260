import {
  Controller,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Inject,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import {
  JUDGE_FROM_CANARY_CONFIG,
  SYNTHETIC_TRAFFIC_HEADER,
  TOPICS,
  type AnalysisIntervalMetricV1,
  type AnalysisIntervalScoredV1,
  type AnalysisIntervalSideV1,
  type AnalysisRequestedV1,
  type AnalysisShareRaiseRequestedV1,
  type CanaryConfigRefV1,
  type EventEnvelope,
  type NewEvent,
  type Verdict,
} from '@rollgate/contracts';
import { DEFAULT_JUDGE, type JudgeVerdict } from '@rollgate/judges';
import { EventStore, inTransaction } from '@rollgate/persistence';
import {
  claimWorkByPartition,
  eachLimited,
  SOLE_OWNER,
  readModelEvents,
  SERVICE_RUNTIME,
  type EventLogContext,
  type ServiceRuntime,
  type WorkOwnership,
} from '@rollgate/platform';
import {
  builtInSignal,
  type CanaryConfig,
  type CanaryMetric,
} from '../canary-configs/canary-config';
import { customProblems, metricsOf } from './custom-metrics';
import { CanaryConfigsService } from '../canary-configs/canary-configs.service';
import { AnalysisRunEntity } from './analysis-run.entity';
import { intervalAction } from './epochs';
import type { MetricSource } from './metric-source';
import { scoreIntervals, type AnalysisPolicy, type Scoring } from './scoring';
import {
  LATENCY_BOUNDS_MS,
  describeGroup,
  emptyGroup,
  histogramQuantile,
  round,
  type GroupSignals,
  type MetricReading,
  type WindowSignals,
} from './signals';

export const METRIC_SOURCE = Symbol('METRIC_SOURCE');
export const ANALYSIS_POLICY = Symbol('ANALYSIS_POLICY');

const ORIGIN = { actor: 'service:analysis', causationId: null };
/** Runs scored side by side in one tick: each waits on the metric source, not on this CPU. */
const RUN_CONCURRENCY = 16;

const failure = (source: MetricSource, error: unknown) =>
  `metric source ${source.kind} failed: ${error instanceof Error ? error.message : String(error)}`;

/** Records each AnalysisRequested as a run, with the source's cursor at that moment. */
@Controller()
export class AnalysisRequestHandler {
  constructor(
    @Inject(METRIC_SOURCE) private readonly source: MetricSource,
    private readonly configs: CanaryConfigsService,
  ) {}

  @EventPattern(readModelEvents('analysis-requests', 'AnalysisRequested'))
  async requested(
    @Payload() event: EventEnvelope<AnalysisRequestedV1>,
    @Ctx() context: EventLogContext,
  ): Promise<void> {
    const request = event.data;
    const manager = context.getManager();
    if (await manager.existsBy(AnalysisRunEntity, { runId: request.analysisRunId })) return;
    // The config version in force when the release started judges every step of it.
    const config = await this.configs.resolve(
      manager,
      request.service,
      request.canaryConfig,
      request.releaseStartedAt ?? event.occurredAt,
    );
    // An unreachable source leaves the cursor empty: the first interval is then NODATA.
    const cursor = await this.source
      .mark(request.service, metricsOf(config?.config))
      .catch(() => null);
    await manager.insert(AnalysisRunEntity, {
      runId: request.analysisRunId,
      request: JSON.stringify(request),
      intervalStartedAt: new Date().toISOString(),
      cursor,
      done: false,
      canaryConfig: config && JSON.stringify(config.ref),
    });
  }
}

/**
 * Who judges a run and how: the judge's name, the canary config version (null: built-in), and
 * the release's low-traffic choices with the share already raised to in this run.
 */
interface Judging {
  judge: string;
  config: CanaryConfig | null;
  ref: CanaryConfigRefV1 | null;
  choices?: AnalysisRequestedV1['lowTraffic'];
  canarySharePercent?: number;
  raisedSharePercent?: number;
}

/** What one interval's reading gave: signals, or why there are none. */
interface Reading {
  signals: WindowSignals | null;
  cursor: string | null;
  problem: string | null;
  /** Set when the interval straddles a new measurement epoch: it is discarded, not scored. */
  newEpoch: string | null;
}

/**
 * Scores every open run once per interval: reads the golden signals of canary and baseline from
 * the metric source, lets the low-traffic policy choose the judge and the window, scores all
 * intervals so far, and emits AnalysisIntervalScored, then AnalysisVerdictReached once the judge
 * is conclusive or the window is over. A source that fails or has no data gives NODATA, never
 * PASS; a streak of them ends the run as FAIL. Timers are rebuilt from the table and the log.
 *
 * A restart (of this process, or of the data plane whose counters it reads) begins a new
 * measurement epoch: the interval in progress straddles it and is discarded, neither NODATA nor
 * scored, and the run goes on from a fresh cursor with the intervals already in the log.
 */
@Injectable()
export class AnalysisRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('analysis');
  /** Intervals that began before this moment began in an earlier life of this process. */
  private readonly bootedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Replicas share runs by the service's analysis partition (ADR 0015). */
  private ownership: WorkOwnership = SOLE_OWNER;

  constructor(
    private readonly eventStore: EventStore,
    @Inject(SERVICE_RUNTIME) private readonly runtime: ServiceRuntime,
    @Inject(METRIC_SOURCE) private readonly source: MetricSource,
    @Inject(ANALYSIS_POLICY) private readonly policy: AnalysisPolicy,
    private readonly configs: CanaryConfigsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.ownership = await claimWorkByPartition(this.runtime, {
      loop: 'runs',
      topic: TOPICS.analysis,
    });
    this.timer = setInterval(() => void this.tick(), 250);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    await this.ownership.stop();
  }

  tick(): Promise<void> {
    this.running ??= this.scoreDueRuns()
      .catch((error: unknown) => this.logger.error(`analysis tick failed: ${String(error)}`))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async scoreDueRuns(): Promise<void> {
    const { ownership } = this;
    const open = await this.runtime.dataSource.manager.findBy(AnalysisRunEntity, { done: false });
    await eachLimited(open, RUN_CONCURRENCY, async (run) => {
      const { service } = JSON.parse(run.request) as AnalysisRequestedV1;
      // A run taken over goes on from the cursor its interval began at (stored with the run).
      if (!ownership.owns(service)) return;
      // One run that fails (its stream moved on, the store hiccuped) does not hold up the others.
      await this.score(run).catch((error: unknown) =>
        this.logger.error(`analysis ${run.runId}: scoring failed: ${String(error)}`),
      );
    });
  }

  private async score(run: AnalysisRunEntity): Promise<void> {
    const request = JSON.parse(run.request) as AnalysisRequestedV1;
    const now = Date.now();
    const action = intervalAction({
      intervalStartedAt: Date.parse(run.intervalStartedAt),
      bootedAt: this.bootedAt,
      now,
      intervalSeconds: request.intervalSeconds,
    });
    // Most ticks fall inside an interval: nothing is read for them, not even the run's stream.
    if (action === 'wait') return;
    const streamId = `analysis:${run.runId}`;
    const history = await this.eventStore.load(streamId);
    const scored = history
      .filter((e) => e.type === 'AnalysisIntervalScored')
      .map((e) => e.data as AnalysisIntervalScoredV1);
    const index = scored.length;
    const judgedBy = await this.judging(request, run);
    const ownMetrics = metricsOf(judgedBy.config);
    if (action === 'reopen') {
      const cursor = await this.source.mark(request.service, ownMetrics).catch(() => null);
      return this.reopen(run, cursor, now, 'the analysis restarted');
    }

    const raise = history
      .filter((e) => e.type === 'AnalysisShareRaiseRequested')
      .map((e) => e.data as AnalysisShareRaiseRequestedV1)
      .pop();
    const judging = {
      ...judgedBy,
      choices: request.lowTraffic,
      canarySharePercent: request.canarySharePercent,
      raisedSharePercent: raise?.toPercent,
    };
    const reading = await this.read(
      request.service,
      run.cursor,
      ownMetrics,
      judgedBy.config?.requests?.prometheus,
    );
    if (reading.newEpoch) return this.reopen(run, reading.cursor, now, reading.newEpoch);
    const intervals = [...scored.map(signalsOf), ...(reading.signals ? [reading.signals] : [])];
    const plannedWindow = request.maxIntervals * request.intervalSeconds;
    const scoring = scoreIntervals({
      ...judging,
      intervals,
      elapsedSeconds: (index + 1) * request.intervalSeconds,
      windowSeconds: plannedWindow,
      last: false,
      policy: this.policy,
    });
    // The low-traffic policy may lengthen the window (within its ceiling); never shorten it.
    const windowSeconds = Math.max(plannedWindow, scoring.lowTraffic?.windowSeconds ?? 0);
    const last = index + 1 >= Math.ceil(windowSeconds / request.intervalSeconds);
    const final = last
      ? this.rescoreLast(request, judging, intervals, index, windowSeconds)
      : scoring;

    const quiet = !reading.signals || totalRequests(reading.signals) === 0;
    const nodataStreak = quiet ? 1 + trailingNodata(scored) : 0;
    const intervalVerdict = reading.signals ? final.verdict : nodataVerdict(reading.problem!);
    const events: NewEvent[] = [
      this.intervalEvent(request, index, reading, intervalVerdict, final.judge, judging),
    ];
    const ending = this.finalVerdict(intervalVerdict.verdict, final, nodataStreak, last);
    const raising = ending === null && !raise ? this.shareRaise(request, final) : null;
    if (raising) events.push(raising);
    if (ending) {
      events.push({
        ...this.envelope(request),
        type: 'AnalysisVerdictReached',
        data: {
          analysisRunId: request.analysisRunId,
          releaseId: request.releaseId,
          service: request.service,
          verdict: ending,
          score: intervalVerdict.score,
          reasons: this.finalReasons(ending, intervalVerdict, scored, reading, nodataStreak),
        },
      });
    }
    await inTransaction(this.runtime.dataSource, async (manager) => {
      await this.eventStore.appendInTransaction(manager, streamId, history.length, events);
      await manager.update(
        AnalysisRunEntity,
        { runId: run.runId },
        {
          done: ending !== null,
          cursor: reading.cursor ?? run.cursor,
          intervalStartedAt: new Date(now).toISOString(),
        },
      );
    });
    this.runtime.relay.kick();
  }

  /**
   * The low-traffic policy chose larger canary and baseline shares (the release allows it): the
   * run asks the orchestrator once, and keeps its window open to the ceiling from then on.
   */
  private shareRaise(request: AnalysisRequestedV1, scoring: Scoring): NewEvent | null {
    const decision = scoring.lowTraffic;
    if (decision?.policy !== 'raise-share' || decision.sharePercent === undefined) return null;
    const data: AnalysisShareRaiseRequestedV1 = {
      analysisRunId: request.analysisRunId,
      releaseId: request.releaseId,
      service: request.service,
      step: request.step,
      fromPercent: request.canarySharePercent ?? 0,
      toPercent: decision.sharePercent,
      reason: decision.reason ?? 'low traffic',
    };
    return { ...this.envelope(request), type: 'AnalysisShareRaiseRequested', data };
  }

  /** Discards the interval in progress: the next one starts at `now`, from `cursor`. */
  private async reopen(
    run: AnalysisRunEntity,
    cursor: string | null,
    now: number,
    why: string,
  ): Promise<void> {
    this.logger.warn(
      `analysis ${run.runId}: ${why}; the interval in progress is discarded, measuring again`,
    );
    await this.runtime.dataSource.manager.update(
      AnalysisRunEntity,
      { runId: run.runId },
      { cursor, intervalStartedAt: new Date(now).toISOString() },
    );
  }

  private rescoreLast(
    request: AnalysisRequestedV1,
    judging: Judging,
    intervals: WindowSignals[],
    index: number,
    windowSeconds: number,
  ): Scoring {
    return scoreIntervals({
      ...judging,
      intervals,
      elapsedSeconds: (index + 1) * request.intervalSeconds,
      windowSeconds,
      last: true,
      policy: this.policy,
    });
  }

  /**
   * The judge and config of a run: the judge the request names, or, when it leaves the choice to
   * the canary config, that config's judge (built-in default: sequential).
   */
  private async judging(request: AnalysisRequestedV1, run: AnalysisRunEntity): Promise<Judging> {
    const ref = run.canaryConfig ? (JSON.parse(run.canaryConfig) as CanaryConfigRefV1) : null;
    const config = ref && (await this.configs.version(ref));
    const judge =
      request.judge === JUDGE_FROM_CANARY_CONFIG
        ? (config?.judge?.name ?? DEFAULT_JUDGE)
        : request.judge;
    return { judge, config, ref: config ? ref : null };
  }

  /** This interval's signals, or the reason there are none (the interval is then NODATA). */
  private async read(
    service: string,
    cursor: string | null,
    metrics: readonly CanaryMetric[],
    requestsQuery: string | undefined,
  ): Promise<Reading> {
    if (cursor === null) {
      // The source could not be read when the run started: start counting now.
      const mark = await this.source.mark(service, metrics).then(
        (value) => ({ value, problem: null }),
        (error: unknown) => ({ value: null, problem: failure(this.source, error) }),
      );
      return {
        signals: null,
        cursor: mark.value,
        problem:
          mark.problem ??
          `metric source ${this.source.kind} could not be read when the run started; counting from now`,
        newEpoch: null,
      };
    }
    try {
      const reading = await this.source.readSince(service, cursor, metrics, requestsQuery);
      return {
        signals: reading.signals,
        cursor: reading.cursor,
        problem: reading.signals
          ? null
          : `metric source ${this.source.kind}: ${reading.problem ?? 'no data'}`,
        newEpoch: reading.newEpoch ?? null,
      };
    } catch (error) {
      this.logger.warn(failure(this.source, error));
      return { signals: null, cursor: null, problem: failure(this.source, error), newEpoch: null };
    }
  }

  /**
   * PASS and FAIL end a run, except that the threshold fallback passes only at the end of the
   * window (it checks bounds, it cannot prove much from a few requests); a NODATA streak ends it
   * as FAIL; at the last interval the reading stands. An interval without data never ends PASS.
   */
  private finalVerdict(
    verdict: Verdict,
    scoring: Scoring,
    nodataStreak: number,
    last: boolean,
  ): Verdict | null {
    if (nodataStreak >= this.policy.maxNodataIntervals) return 'FAIL';
    if (verdict === 'FAIL') return verdict;
    if (verdict === 'PASS' && (last || scoring.judge !== 'threshold')) return verdict;
    return last ? verdict : null;
  }

  private finalReasons(
    ending: Verdict,
    verdict: JudgeVerdict,
    scored: AnalysisIntervalScoredV1[],
    reading: Reading,
    nodataStreak: number,
  ): string[] {
    if (ending !== 'FAIL' || nodataStreak < this.policy.maxNodataIntervals) return verdict.reasons;
    const problems = [
      ...new Set([
        ...scored.slice(scored.length - (nodataStreak - 1)).flatMap((s) => s.reasons.slice(0, 1)),
        ...(reading.problem ? [reading.problem] : ['no requests in the interval']),
      ]),
    ];
    return [`no data for ${nodataStreak} intervals in a row: failing safe`, ...problems];
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
    reading: Reading,
    verdict: JudgeVerdict,
    judge: string,
    judging: Judging,
  ): NewEvent {
    const signals = reading.signals;
    const canaryConfig = judging.ref;
    const reasons = signals
      ? [
          ...verdict.reasons,
          ...verdict.metrics.map((m) => `${m.name}: ${m.classification}: ${m.reason}`),
          ...customProblems(signals),
          describeGroup('canary', signals.canary),
          describeGroup('baseline', signals.baseline),
          ...syntheticNote(request),
        ]
      : verdict.reasons;
    const metrics =
      judging.config && signals
        ? metricResults(judging.config, this.source.kind, signals, verdict)
        : [];
    const data: AnalysisIntervalScoredV1 = {
      analysisRunId: request.analysisRunId,
      releaseId: request.releaseId,
      service: request.service,
      interval: index,
      verdict: verdict.verdict,
      score: verdict.score,
      reasons,
      judge,
      ...(canaryConfig && { canaryConfig }),
      ...(metrics.length > 0 && { metrics }),
      canary: sideOf(signals?.canary),
      baseline: sideOf(signals?.baseline),
    };
    return { ...this.envelope(request), type: 'AnalysisIntervalScored', data };
  }
}

/** How much of an interval's traffic the orchestrator's load generator sent, when it runs. */
function syntheticNote(request: AnalysisRequestedV1): string[] {
  const synthetic = request.lowTraffic?.synthetic;
  if (!synthetic) return [];
  const perGroup = Math.round(synthetic.rps * request.intervalSeconds);
  return [
    `synthetic traffic: about ${perGroup} of each group's requests in this interval (${synthetic.rps} req/s each, marked ${SYNTHETIC_TRAFFIC_HEADER}; counted apart by the instances as rollgate_synthetic_requests_total)`,
  ];
}

function nodataVerdict(problem: string): JudgeVerdict {
  return { verdict: 'NODATA', score: 0, metrics: [], reasons: [problem] };
}

const totalRequests = (signals: WindowSignals) =>
  signals.canary.requests + signals.baseline.requests;

/** The event's view of one group: counts, p50/p99, saturation and the histogram itself. */
function sideOf(group: GroupSignals | undefined): AnalysisIntervalSideV1 {
  if (!group) return { requests: 0, errors: 0 };
  const p50 = histogramQuantile(group.latencyCounts, 0.5);
  const p99 = histogramQuantile(group.latencyCounts, 0.99);
  return {
    requests: group.requests,
    errors: group.errors,
    ...(p50 === null ? {} : { p50Ms: round(p50), p99Ms: round(p99!) }),
    ...(group.saturation === null ? {} : { saturation: round(Math.max(0, group.saturation)) }),
    latencyCounts: group.latencyCounts,
    latencyBoundsMs: [...LATENCY_BOUNDS_MS],
  };
}

/** The signals an interval event recorded (events from before histograms were kept have none). */
function signalsOf(scored: AnalysisIntervalScoredV1): WindowSignals {
  const group = (side: AnalysisIntervalSideV1): GroupSignals => ({
    requests: side.requests,
    errors: side.errors,
    latencyCounts: side.latencyCounts ?? emptyGroup().latencyCounts,
    saturation: side.saturation ?? null,
  });
  const custom = Object.fromEntries(
    (scored.metrics ?? [])
      .filter((m) => m.measuredBy === 'prometheus' || m.measuredBy === 'embedded')
      .map((m) => [m.name, { canary: m.canary ?? null, baseline: m.baseline ?? null }]),
  );
  return {
    canary: group(scored.canary),
    baseline: group(scored.baseline),
    ...(Object.keys(custom).length > 0 && { custom }),
  };
}

/**
 * Each config metric's interval values and the judge's classification so far: the values its
 * own query read (absent: it returned nothing), else for a built-in signal its interval summary
 * (error rate as a fraction, p99 in ms, saturation).
 */
function metricResults(
  config: CanaryConfig,
  sourceKind: string,
  signals: WindowSignals,
  verdict: JudgeVerdict,
): AnalysisIntervalMetricV1[] {
  const classified = new Map(verdict.metrics.map((m) => [m.name, m.classification]));
  const summary = (signal: string, group: GroupSignals): number | null => {
    if (signal === 'error-rate')
      return group.requests > 0 ? round(group.errors / group.requests) : null;
    if (signal === 'latency') {
      const p99 = histogramQuantile(group.latencyCounts, 0.99);
      return p99 === null ? null : round(p99);
    }
    return group.saturation === null ? null : round(group.saturation);
  };
  return config.metrics.flatMap((metric): AnalysisIntervalMetricV1[] => {
    const signal = builtInSignal(metric.query);
    const reading: (MetricReading & { measuredBy: string }) | null = signals.custom?.[metric.name]
      ? { ...signals.custom[metric.name]!, measuredBy: sourceKind }
      : signal && {
          canary: summary(signal, signals.canary),
          baseline: summary(signal, signals.baseline),
          measuredBy: signal,
        };
    if (!reading) return [];
    const { canary, baseline, measuredBy, problem } = reading;
    const classification = classified.get(metric.name);
    return [
      {
        name: metric.name,
        measuredBy,
        ...(canary !== null && Number.isFinite(canary) && { canary }),
        ...(baseline !== null && Number.isFinite(baseline) && { baseline }),
        ...(classification && { classification }),
        ...(problem && { problem }),
      },
    ];
  });
}

function trailingNodata(scored: AnalysisIntervalScoredV1[]): number {
  let streak = 0;
  for (
    let i = scored.length - 1;
    i >= 0 && scored[i]!.canary.requests === 0 && scored[i]!.baseline.requests === 0;
    i--
  )
    streak++;
  return streak;
}
