import { AGGREGATES } from './threshold/threshold-settings';

// JSON Schema of JudgeSettings (`rollgate judge --config`, a canary config's judge settings);
// unknown keys are rejected so typos surface.
const number = { type: 'number' };
const probability = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 };
const strict = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  additionalProperties: false,
});
const byMetric = (schema: unknown) => ({ type: 'object', additionalProperties: schema });

const kayenta = strict({
  scoreThresholds: {
    ...strict({ pass: number, marginal: number }),
    required: ['pass', 'marginal'],
  },
  groupWeights: byMetric(number),
  metrics: byMetric(
    strict({
      groups: { type: 'array', items: { type: 'string' } },
      nanStrategy: { enum: ['remove', 'replace'] },
      outlierStrategy: { enum: ['keep', 'remove'] },
      outlierFactor: { type: 'number', minimum: 0 },
      mustHaveData: { type: 'boolean' },
      muted: { type: 'boolean' },
      effectSize: strict({
        measure: { enum: ['meanRatio', 'cles'] },
        allowedIncrease: number,
        allowedDecrease: number,
        criticalIncrease: number,
        criticalDecrease: number,
      }),
    }),
  ),
});

const threshold = strict({
  conditions: byMetric(
    strict({
      aggregate: { enum: [...AGGREGATES] },
      max: number,
      min: number,
      minSamples: { type: 'integer', minimum: 1 },
    }),
  ),
});

const mixture = {
  type: 'array',
  minItems: 1,
  items: {
    ...strict({
      multiple: { type: 'number', exclusiveMinimum: 0 },
      weight: { type: 'number', minimum: 0 },
    }),
    required: ['multiple', 'weight'],
  },
};

const sequential = strict({
  alpha: probability,
  beta: probability,
  describeEveryLook: { type: 'boolean' },
  mixture,
  shiftMixture: mixture,
  proportionAlphaFactor: { type: 'number', exclusiveMinimum: 0 },
  metrics: byMetric(
    strict({
      kind: { enum: ['auto', 'proportion', 'continuous'] },
      scale: { enum: ['auto', 'log', 'linear'] },
      minimumRegression: { type: 'number', exclusiveMinimum: 0 },
      tailQuantiles: { type: 'array', items: probability },
      tailMinimumRatio: { type: 'number', exclusiveMinimum: 1 },
      minimumSamples: { type: 'integer', minimum: 2 },
    }),
  ),
});

export const JUDGE_SETTINGS_SCHEMA = strict({
  judge: { enum: ['kayenta', 'threshold', 'sequential'] },
  kayenta,
  threshold,
  sequential,
});
