import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';
import { lowTrafficSchema, type LowTrafficChoicesV1 } from './policy';

export type Verdict = 'PASS' | 'MARGINAL' | 'FAIL' | 'NODATA';

export interface AnalysisVerdictReachedV1 {
  analysisRunId: string;
  releaseId: string;
  service: string;
  verdict: Verdict;
  /** 0-100, when the judge scores. */
  score?: number;
  reasons: string[];
}

export const AnalysisVerdictReachedV1 = defineEvent<
  AnalysisVerdictReachedV1,
  'AnalysisVerdictReached'
>({
  type: 'AnalysisVerdictReached',
  version: 1,
  topic: TOPICS.analysis,
  description: 'An analysis run compared canary with baseline and decided.',
  schema: {
    type: 'object',
    properties: {
      analysisRunId: { type: 'string', minLength: 1 },
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      verdict: { type: 'string', enum: ['PASS', 'MARGINAL', 'FAIL', 'NODATA'] },
      score: { type: 'number', nullable: true, minimum: 0, maximum: 100 },
      reasons: { type: 'array', items: { type: 'string' } },
    },
    required: ['analysisRunId', 'releaseId', 'service', 'verdict', 'reasons'],
    additionalProperties: false,
  },
});

/** Compare canary with baseline over one release step. */
export interface AnalysisRequestedV1 {
  analysisRunId: string;
  releaseId: string;
  service: string;
  step: number;
  /** Seconds between interval scores. */
  intervalSeconds: number;
  /** The run ends with a verdict after at most this many intervals. */
  maxIntervals: number;
  /**
   * Judge name from the judge registry (sequential, kayenta, threshold), or `canary-config`
   * (JUDGE_FROM_CANARY_CONFIG): the judge of the canary config in force when the release started.
   */
  judge: string;
  /** When the release started: the canary config in force at that moment judges it. */
  releaseStartedAt?: string;
  /** The canary config to judge with; default: the one named after the service, else built-in. */
  canaryConfig?: string;
  /** The release's low-traffic choices (share raise, synthetic traffic, fallback confirmation). */
  lowTraffic?: LowTrafficChoicesV1;
  /** The canary's share of the traffic at this step, in percent (the baseline takes as much). */
  canarySharePercent?: number;
}

/** `judge` of an AnalysisRequested that leaves the choice to the canary config. */
export const JUDGE_FROM_CANARY_CONFIG = 'canary-config';

/** A canary config and the version of it that judged. */
export interface CanaryConfigRefV1 {
  name: string;
  version: number;
}

const canaryConfigRefSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: SERVICE_NAME_PATTERN },
    version: { type: 'integer', minimum: 1 },
  },
  required: ['name', 'version'],
  additionalProperties: false,
} as const;

export const AnalysisRequestedV1 = defineEvent<AnalysisRequestedV1, 'AnalysisRequested'>({
  type: 'AnalysisRequested',
  version: 1,
  topic: TOPICS.analysis,
  description: 'The orchestrator asks for a canary-versus-baseline analysis of a release step.',
  schema: {
    type: 'object',
    properties: {
      analysisRunId: { type: 'string', minLength: 1 },
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      step: { type: 'integer', minimum: 0 },
      intervalSeconds: { type: 'integer', minimum: 1, maximum: 3600 },
      maxIntervals: { type: 'integer', minimum: 1, maximum: 1000 },
      judge: { type: 'string', minLength: 1 },
      releaseStartedAt: { type: 'string', format: 'date-time', nullable: true },
      canaryConfig: { type: 'string', pattern: SERVICE_NAME_PATTERN, nullable: true },
      lowTraffic: { ...lowTrafficSchema, nullable: true },
      canarySharePercent: { type: 'number', minimum: 0, maximum: 100, nullable: true },
    },
    required: [
      'analysisRunId',
      'releaseId',
      'service',
      'step',
      'intervalSeconds',
      'maxIntervals',
      'judge',
    ],
    additionalProperties: false,
  },
});

/** One interval's evidence: what each side saw, and the judge's reading so far. */
export interface AnalysisIntervalScoredV1 {
  analysisRunId: string;
  releaseId: string;
  service: string;
  interval: number;
  verdict: Verdict;
  score?: number;
  reasons: string[];
  canary: AnalysisIntervalSideV1;
  baseline: AnalysisIntervalSideV1;
  /** The judge that scored this interval (the low-traffic policy may swap in `threshold`). */
  judge?: string;
  /** The canary config version that judged; absent: the built-in defaults. */
  canaryConfig?: CanaryConfigRefV1;
  /** Each canary config metric's values this interval and its reading so far. */
  metrics?: AnalysisIntervalMetricV1[];
}

/** One canary config metric over one interval. */
export interface AnalysisIntervalMetricV1 {
  name: string;
  /**
   * What measured it: `prometheus` or `embedded` (the metric's own query), or the built-in signal
   * it names (`error-rate` as a fraction, `latency` as p99 ms, `saturation`).
   */
  measuredBy: string;
  /** The canary's value; absent when the query returned nothing (no data). */
  canary?: number;
  baseline?: number;
  /** The judge's classification of the metric over the run so far (e.g. Pass, High, Low). */
  classification?: string;
  /** Why a value is missing. */
  problem?: string;
}

const intervalMetricSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    measuredBy: { type: 'string', minLength: 1 },
    canary: { type: 'number', nullable: true },
    baseline: { type: 'number', nullable: true },
    classification: { type: 'string', nullable: true },
    problem: { type: 'string', nullable: true },
  },
  required: ['name', 'measuredBy'],
  additionalProperties: false,
} as const;

/** One group's golden signals over one interval. */
export interface AnalysisIntervalSideV1 {
  requests: number;
  errors: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Mean requests in flight per instance over the interval. */
  saturation?: number;
  /** Latency histogram: counts per bucket of `latencyBoundsMs` (ms, inclusive) plus overflow. */
  latencyCounts?: number[];
  latencyBoundsMs?: number[];
}

const sideSchema = {
  type: 'object',
  properties: {
    requests: { type: 'integer', minimum: 0 },
    errors: { type: 'integer', minimum: 0 },
    p50Ms: { type: 'number', minimum: 0, nullable: true },
    p99Ms: { type: 'number', minimum: 0, nullable: true },
    saturation: { type: 'number', minimum: 0, nullable: true },
    latencyCounts: { type: 'array', items: { type: 'integer', minimum: 0 }, nullable: true },
    latencyBoundsMs: { type: 'array', items: { type: 'number', minimum: 0 }, nullable: true },
  },
  required: ['requests', 'errors'],
  additionalProperties: false,
} as const;

export const AnalysisIntervalScoredV1 = defineEvent<
  AnalysisIntervalScoredV1,
  'AnalysisIntervalScored'
>({
  type: 'AnalysisIntervalScored',
  version: 1,
  topic: TOPICS.analysis,
  description: 'The metrics of one analysis interval and the verdict they support so far.',
  schema: {
    type: 'object',
    properties: {
      analysisRunId: { type: 'string', minLength: 1 },
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      interval: { type: 'integer', minimum: 0 },
      verdict: { type: 'string', enum: ['PASS', 'MARGINAL', 'FAIL', 'NODATA'] },
      score: { type: 'number', nullable: true, minimum: 0, maximum: 100 },
      reasons: { type: 'array', items: { type: 'string' } },
      canary: sideSchema,
      baseline: sideSchema,
      judge: { type: 'string', nullable: true },
      canaryConfig: { ...canaryConfigRefSchema, nullable: true },
      metrics: { type: 'array', items: intervalMetricSchema, nullable: true },
    },
    required: [
      'analysisRunId',
      'releaseId',
      'service',
      'interval',
      'verdict',
      'reasons',
      'canary',
      'baseline',
    ],
    additionalProperties: false,
  },
});

/** A canary config was applied: a new version, with the document before and after. */
export interface CanaryConfigChangedV1 {
  name: string;
  /** 1 for the first version, then one more per change. */
  version: number;
  /** The previous version's document; absent for the first version. */
  before?: Record<string, unknown>;
  after: Record<string, unknown>;
}

export const CanaryConfigChangedV1 = defineEvent<CanaryConfigChangedV1, 'CanaryConfigChanged'>({
  type: 'CanaryConfigChanged',
  version: 1,
  topic: TOPICS.analysis,
  description:
    'A canary config (metrics, weights, judge and its settings) got a new version; releases that start from now on are judged by it.',
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      version: { type: 'integer', minimum: 1 },
      before: { type: 'object', nullable: true, required: [], additionalProperties: true },
      after: { type: 'object', required: [], additionalProperties: true },
    },
    required: ['name', 'version', 'after'],
    additionalProperties: false,
  },
});
