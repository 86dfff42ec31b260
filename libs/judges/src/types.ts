import type { Verdict } from '@rollgate/contracts';

export type { Verdict };

/** The direction of change that is bad for a metric. */
export type Direction = 'increase' | 'decrease' | 'either';

export const DIRECTIONS: readonly Direction[] = ['increase', 'decrease', 'either'];

export interface MetricInput {
  name: string;
  /** Observations from the baseline group; NaN marks a missing value. */
  baseline: readonly number[];
  /** Observations from the canary group; NaN marks a missing value. */
  canary: readonly number[];
  direction: Direction;
  /** A critical metric that fails fails the whole canary (kayenta); default false. */
  critical?: boolean;
  /** Relative weight in the score (and the sequential judge's false-alarm budget); default 1. */
  weight?: number;
}

export type JudgeName = 'kayenta' | 'threshold' | 'sequential';

export interface JudgeRequest {
  /** Which judge to use; default: the service's configured judge, else `sequential`. */
  judge?: JudgeName;
  metrics: readonly MetricInput[];
}

/**
 * Per-metric outcome. Pass/High/Low/NoData as in Kayenta; NoDataFail is Kayenta's
 * NodataFailMetric (missing data counted as a failure); Inconclusive: a sequential judge has data
 * but no conclusion yet.
 */
export type Classification = 'Pass' | 'High' | 'Low' | 'NoData' | 'NoDataFail' | 'Inconclusive';

export interface MetricResult {
  name: string;
  classification: Classification;
  /** Canary's Mann-Whitney U (pairs with canary > baseline, ties 0.5); null without both samples. */
  u: number | null;
  /** Two-sided Mann-Whitney p-value; null without both samples. */
  pValue: number | null;
  /** Effect size: canary mean ÷ baseline mean (kayenta may be set to CLES); null if undefined. */
  effect: number | null;
  /** One sentence a person can act on. */
  reason: string;
}

export interface JudgeVerdict {
  verdict: Verdict;
  /** 0–100: weighted share of passing metrics (kayenta: its group-weighted score). */
  score: number;
  metrics: MetricResult[];
  /** Why the verdict is what it is, most important first. */
  reasons: string[];
}

/** One interface for every judge: compare canary with baseline and decide. */
export interface Judge {
  readonly name: JudgeName;
  judge(request: JudgeRequest): JudgeVerdict;
  /**
   * A complete window judged once (a one-shot request, or a window that closed inconclusive), for
   * judges whose `judge` is built to be repeated; without it, `judge` is used.
   */
  judgeWindow?(request: JudgeRequest): JudgeVerdict;
}
