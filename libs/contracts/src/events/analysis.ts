import { defineEvent, SERVICE_NAME_PATTERN } from '../definition';
import { TOPICS } from '../topics';

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
