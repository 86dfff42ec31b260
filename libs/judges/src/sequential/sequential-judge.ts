import { finiteValues, NO_RANK_STATISTICS, rankStatistics } from '../describe';
import { JudgeInputError } from '../errors';
import { namesWith, passShareScore } from '../scoring';
import type { Judge, JudgeRequest, JudgeVerdict, MetricInput, MetricResult } from '../types';
import { alphaByKind } from './alpha';
import { metricOutcome } from './explain';
import { fixedHorizonVerdict } from './fixed-horizon';
import { createMetricTests, metricEvidence, observeMetric, type MetricTests } from './metric-tests';
import {
  metricSettingsFor,
  resolveSequentialSettings,
  type SequentialSettings,
} from './sequential-settings';

/** One metric inside a run: how much of its cumulative data was consumed, and its tests. */
export interface MetricRunState {
  name: string;
  /**
   * This metric's share of α; null until every metric of the run has shown a value, because the
   * shares depend on the metrics' kinds (see `proportionAlphaFactor`).
   */
  alpha: number | null;
  /** The metric's kind, fixed with the shares of α. */
  kind?: 'proportion' | 'continuous';
  /** Values already fed to the tests, per group (indexes into the cumulative arrays). */
  consumed: { baseline: number; canary: number };
  /** Created at the first look with data in both groups. */
  tests: MetricTests | null;
}

/** Everything a sequential analysis run must keep between looks; plain JSON. */
export interface SequentialRunState {
  looks: number;
  metrics: MetricRunState[];
  /** The PASS or FAIL that stopped the run; later looks repeat it. */
  final: JudgeVerdict | null;
}

export interface SequentialLook {
  state: SequentialRunState;
  /** PASS or FAIL: stop. MARGINAL (inconclusive) or NODATA: look again next interval. */
  verdict: JudgeVerdict;
}

/**
 * Sequential judge: always-valid tests (mixture SPRTs) per metric, so it may look after every
 * interval and stop at the first conclusive one: FAIL as soon as a regression is established,
 * PASS as soon as every metric rules out its minimum regression.
 *
 * Incremental use by an analysis run, once per interval:
 *   let state = judge.start();
 *   ({ state, verdict } = judge.observe(state, requestWithCumulativeSamples));
 * Each look takes the cumulative samples so far and feeds only the values not seen before, so
 * repeating a look (a redelivered interval) changes nothing.
 */
export class SequentialJudge implements Judge {
  readonly name = 'sequential' as const;
  readonly settings: SequentialSettings;

  constructor(settings: Partial<SequentialSettings> = {}) {
    this.settings = resolveSequentialSettings(settings);
  }

  /**
   * One always-valid look at all the data given; the same as `observe(start(), request)`. Safe to
   * call again as the data grow (an analysis run scoring its cumulative intervals).
   */
  judge(request: JudgeRequest): JudgeVerdict {
    return this.look(this.start(), request, true).verdict;
  }

  /**
   * A complete window, judged once: fixed-horizon tests at α (two-proportion on counts for 0/1
   * metrics, Mann-Whitney otherwise). Far more powerful than `judge` on the same data, because a
   * single look needs no protection against peeking; never call it repeatedly on growing data.
   */
  judgeWindow(request: JudgeRequest): JudgeVerdict {
    return fixedHorizonVerdict(request, this.settings);
  }

  start(): SequentialRunState {
    return { looks: 0, metrics: [], final: null };
  }

  observe(state: SequentialRunState, cumulative: JudgeRequest): SequentialLook {
    return this.look(state, cumulative, this.settings.describeEveryLook);
  }

  private look(
    state: SequentialRunState,
    request: JudgeRequest,
    describe: boolean,
  ): SequentialLook {
    if (state.final) return { state, verdict: state.final };
    const metrics = this.shareAlpha(this.metricStates(state, request.metrics), request.metrics).map(
      (metric, i) => this.feed(metric, request.metrics[i]),
    );
    const outcomes = metrics.map((metric, i) => this.outcome(metric, request.metrics[i]));
    const verdict = verdictOf(request.metrics, outcomes);
    const final = verdict.verdict === 'PASS' || verdict.verdict === 'FAIL';
    const shown = final || describe ? withRankStatistics(verdict, request.metrics) : verdict;
    return {
      state: { looks: state.looks + 1, metrics, final: final ? shown : null },
      verdict: shown,
    };
  }

  /** The run's metric states: created on the first look, then the same metrics every look. */
  private metricStates(
    state: SequentialRunState,
    inputs: readonly MetricInput[],
  ): MetricRunState[] {
    if (state.metrics.length === 0) {
      return inputs.map((m) => ({
        name: m.name,
        alpha: null,
        consumed: { baseline: 0, canary: 0 },
        tests: null,
      }));
    }
    const expected = state.metrics.map((m) => m.name).join(', ');
    if (inputs.map((m) => m.name).join(', ') !== expected) {
      throw new JudgeInputError(`the metrics changed during the run; expected: ${expected}`);
    }
    return state.metrics;
  }

  /**
   * Shares α once every metric's kind is known (its setting, or its first values), before any test
   * sees data: the shares depend only on the kinds and weights, never on how the groups compare.
   */
  private shareAlpha(metrics: MetricRunState[], inputs: readonly MetricInput[]): MetricRunState[] {
    if (metrics.every((m) => m.alpha !== null)) return metrics;
    const shared = alphaByKind(inputs, this.settings);
    if (!shared) return metrics;
    return metrics.map((metric, i) => ({
      ...metric,
      alpha: shared.alphas[i]!,
      kind: shared.kinds[i],
    }));
  }

  private feed(metric: MetricRunState, input: MetricInput): MetricRunState {
    if (metric.alpha === null) return metric; // waiting for every metric's kind
    const fresh = {
      baseline: finiteValues(newValues(metric, input, 'baseline')),
      canary: finiteValues(newValues(metric, input, 'canary')),
    };
    if (!metric.tests && (fresh.baseline.length === 0 || fresh.canary.length === 0)) {
      return metric; // nothing consumed: the values wait until both groups have some
    }
    const tests =
      metric.tests ??
      createMetricTests(metric.name, fresh, input.direction, metric.alpha, this.settings, {
        ...metricSettingsFor(this.settings, metric.name),
        ...(metric.kind ? { kind: metric.kind } : {}),
      });
    return {
      ...metric,
      consumed: { baseline: input.baseline.length, canary: input.canary.length },
      tests: observeMetric(metric.name, tests, fresh),
    };
  }

  private outcome(metric: MetricRunState, input: MetricInput): MetricResult {
    if (!metric.tests || metric.alpha === null) {
      const missing = ['baseline', 'canary'].filter(
        (side) => finiteValues(input[side as 'baseline' | 'canary']).length === 0,
      );
      if (missing.length > 0) return resultOf(input.name, 'NoData', `no ${missing[0]} data yet`);
      return resultOf(
        input.name,
        'NoData',
        'waiting for a value of every metric, to share α by kind',
      );
    }
    const { classification, reason } = metricOutcome(
      metric.tests,
      metricEvidence(metric.tests),
      metric.alpha,
    );
    return resultOf(input.name, classification, reason);
  }
}

const resultOf = (
  name: string,
  classification: MetricResult['classification'],
  reason: string,
): MetricResult => ({ name, classification, ...NO_RANK_STATISTICS, reason });

function newValues(
  metric: MetricRunState,
  input: MetricInput,
  side: 'baseline' | 'canary',
): number[] {
  const seen = metric.consumed[side];
  if (input[side].length < seen) {
    throw new JudgeInputError(
      `metric "${metric.name}": ${side} has ${input[side].length} values, fewer than the ${seen} already seen; send cumulative samples`,
    );
  }
  return input[side].slice(seen);
}

function verdictOf(inputs: readonly MetricInput[], metrics: MetricResult[]): JudgeVerdict {
  const score = passShareScore(inputs, metrics);
  const regressed = namesWith(metrics, (c) => c === 'High' || c === 'Low');
  const noData = namesWith(metrics, (c) => c === 'NoData');
  const pending = namesWith(metrics, (c) => c === 'Inconclusive');
  if (regressed.length > 0) {
    return {
      verdict: 'FAIL',
      score,
      metrics,
      reasons: [`regression established: ${regressed.join(', ')}`],
    };
  }
  if (noData.length > 0 || metrics.length === 0) {
    const reason = metrics.length === 0 ? 'no metrics' : `no data yet for: ${noData.join(', ')}`;
    return { verdict: 'NODATA', score, metrics, reasons: [reason] };
  }
  if (pending.length > 0) {
    return {
      verdict: 'MARGINAL',
      score,
      metrics,
      reasons: [`not conclusive yet: ${pending.join(', ')}; keep looking`],
    };
  }
  return {
    verdict: 'PASS',
    score,
    metrics,
    reasons: ['every metric rules out its minimum regression'],
  };
}

function withRankStatistics(verdict: JudgeVerdict, inputs: readonly MetricInput[]): JudgeVerdict {
  return {
    ...verdict,
    metrics: verdict.metrics.map((m, i) => ({
      ...m,
      ...rankStatistics(inputs[i].baseline, inputs[i].canary),
    })),
  };
}
