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
  /** The route request that carries the new weights. */
  requestId: string;
}

export const ReleaseShareRaisedV1 = defineEvent<ReleaseShareRaisedV1, 'ReleaseShareRaised'>({
  type: 'ReleaseShareRaised',
  version: 1,
  topic: TOPICS.releases,
  description:
    'Low traffic: the orchestrator raised the canary and baseline shares of a release step (equally), as its analysis asked.',
  schema: {
    type: 'object',
    properties: { ...shareChangeProperties, requestId: { type: 'string', minLength: 1 } },
    required: [...shareChangeRequired, 'requestId'],
    additionalProperties: false,
  },
});
