import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

/**
 * The analysis of a low-traffic step asks for larger canary and baseline shares (the release's
 * low-traffic choices allow it, up to their cap): extending the window alone would not reach the
 * minimum sample, and the threshold fallback would judge the canary alone.
 */
export interface AnalysisShareRaiseRequestedV1 {
  analysisRunId: string;
  releaseId: string;
  service: string;
  step: number;
  /** The share canary and baseline each had, in percent. */
  fromPercent: number;
  /** The share canary and baseline should each take from now on, in percent (≤ 50). */
  toPercent: number;
  reason: string;
}

const shareChangeProperties = {
  analysisRunId: { type: 'string', minLength: 1 },
  releaseId: { type: 'string', minLength: 1 },
  service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
  step: { type: 'integer', minimum: 0 },
  fromPercent: { type: 'number', minimum: 0, maximum: 50 },
  toPercent: { type: 'number', minimum: 0, maximum: 50 },
  reason: { type: 'string' },
} as const;

const shareChangeRequired = [
  'analysisRunId',
  'releaseId',
  'service',
  'step',
  'fromPercent',
  'toPercent',
  'reason',
] as const;

export const AnalysisShareRaiseRequestedV1 = defineEvent<
  AnalysisShareRaiseRequestedV1,
  'AnalysisShareRaiseRequested'
>({
  type: 'AnalysisShareRaiseRequested',
  version: 1,
  topic: TOPICS.analysis,
  description:
    'Low traffic: the analysis of a release step asks for larger canary and baseline shares, as the release’s low-traffic choices allow.',
  schema: {
    type: 'object',
    properties: shareChangeProperties,
    required: [...shareChangeRequired],
    additionalProperties: false,
  },
});

/** The orchestrator raised canary and baseline shares of a step (the route was requested). */
export interface ReleaseShareRaisedV1 extends AnalysisShareRaiseRequestedV1 {
  /**
   * `<release>:<step>:share-<percent>:raised`, once per release step; the route request with the
   * new weights is named after it (`<release>:<step>:share-<percent>@<process life>`).
   */
  requestId: string;
}

export const ReleaseShareRaisedV1 = defineEvent<ReleaseShareRaisedV1, 'ReleaseShareRaised'>({
  type: 'ReleaseShareRaised',
  version: 1,
  // On the routing topic, not the releases one: it is recorded on the release's request stream,
  // whose sequences are not the service stream's the release projection counts.
  topic: TOPICS.routing,
  description:
    'Low traffic: the orchestrator raised the canary and baseline shares of a release step (equally), as its analysis asked.',
  schema: {
    type: 'object',
    properties: { ...shareChangeProperties, requestId: { type: 'string', minLength: 1 } },
    required: [...shareChangeRequired, 'requestId'],
    additionalProperties: false,
  },
});

/** Marks synthetic requests (value `1`): instances count them apart, people can filter them. */
export const SYNTHETIC_TRAFFIC_HEADER = 'x-rollgate-synthetic';

/** The orchestrator started synthetic traffic for an analysis run (the release's choice). */
export interface SyntheticTrafficStartedV1 {
  /** `<analysis run>:synthetic-started`. */
  requestId: string;
  analysisRunId: string;
  releaseId: string;
  service: string;
  step: number;
  /** Requests per second to each of canary and baseline. */
  rps: number;
  mix: { method: string; path: string; weight: number }[];
  /** The header that marks the requests (value `1`). */
  header: string;
}

/** The orchestrator stopped the synthetic traffic of an analysis run. */
export interface SyntheticTrafficStoppedV1 {
  /** `<analysis run>:synthetic-stopped`. */
  requestId: string;
  analysisRunId: string;
  releaseId: string;
  service: string;
  step: number;
  /** Requests answered, per group, as the load generator last reported. */
  sent: { canary: number; baseline: number };
  reason: string;
}

const syntheticRunProperties = {
  requestId: { type: 'string', minLength: 1 },
  analysisRunId: { type: 'string', minLength: 1 },
  releaseId: { type: 'string', minLength: 1 },
  service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
  step: { type: 'integer', minimum: 0 },
} as const;
const syntheticRunRequired = [
  'requestId',
  'analysisRunId',
  'releaseId',
  'service',
  'step',
] as const;

export const SyntheticTrafficStartedV1 = defineEvent<
  SyntheticTrafficStartedV1,
  'SyntheticTrafficStarted'
>({
  type: 'SyntheticTrafficStarted',
  version: 1,
  topic: TOPICS.analysis,
  description:
    'Low traffic: the orchestrator drives marked synthetic requests at canary and baseline equally while a release step is analysed.',
  schema: {
    type: 'object',
    properties: {
      ...syntheticRunProperties,
      rps: { type: 'number', exclusiveMinimum: 0 },
      mix: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            method: { type: 'string' },
            path: { type: 'string' },
            weight: { type: 'number' },
          },
          required: ['method', 'path', 'weight'],
          additionalProperties: false,
        },
      },
      header: { type: 'string', minLength: 1 },
    },
    required: [...syntheticRunRequired, 'rps', 'mix', 'header'],
    additionalProperties: false,
  },
});

export const SyntheticTrafficStoppedV1 = defineEvent<
  SyntheticTrafficStoppedV1,
  'SyntheticTrafficStopped'
>({
  type: 'SyntheticTrafficStopped',
  version: 1,
  topic: TOPICS.analysis,
  description:
    'Low traffic: the synthetic traffic of an analysed release step stopped, with how many requests each group answered.',
  schema: {
    type: 'object',
    properties: {
      ...syntheticRunProperties,
      sent: {
        type: 'object',
        properties: {
          canary: { type: 'integer', minimum: 0 },
          baseline: { type: 'integer', minimum: 0 },
        },
        required: ['canary', 'baseline'],
        additionalProperties: false,
      },
      reason: { type: 'string' },
    },
    required: [...syntheticRunRequired, 'sent', 'reason'],
    additionalProperties: false,
  },
});
