import {
  artifactSchema,
  defineEvent,
  DIGEST_PATTERN,
  SERVICE_NAME_PATTERN,
  VERSION_GROUPS,
  type ArtifactRef,
  type VersionGroup,
} from '../definition';
import { TOPICS } from '../topics';
import { lowTrafficSchema, type LowTrafficChoicesV1 } from './policy';

export type ReleaseStrategy = 'rolling' | 'blue-green' | 'canary';

/** How a release proceeds; defaults are filled in when the release is requested. */
export interface ReleasePlan {
  /** Instances of the service when the release is done. */
  replicas: number;
  /** Canary: ascending traffic shares (percent) before full promotion, e.g. [5, 25, 50]. */
  canarySteps: number[];
  /** Canary: how long each step is observed before its verdict counts. */
  stepSeconds: number;
  /** Rolling: instances replaced per batch. */
  maxSurge: number;
  /** Rolling: instances that may be down at once. */
  maxUnavailable: number;
  /** A MARGINAL verdict pauses for a person; after this long it rolls back. */
  marginalTimeoutSeconds: number;
  /** Blue-green: how long blue stays warm after the switch, for an instant switch back. */
  warmSeconds: number;
}

export interface ReleaseRequestedV1 {
  releaseId: string;
  service: string;
  artifact: ArtifactRef;
  strategy: ReleaseStrategy;
  /** Absent on releases requested before plans existed: the defaults apply. */
  plan?: ReleasePlan;
  /** Version label of the artifact, for people (the digest is what identifies it). */
  version?: string;
  /** The service had no stable version: nothing to compare with, the release starts it. */
  firstRelease?: boolean;
}

const planSchema = {
  type: 'object',
  properties: {
    replicas: { type: 'integer', minimum: 1, maximum: 50 },
    canarySteps: {
      type: 'array',
      items: { type: 'integer', minimum: 1, maximum: 99 },
      minItems: 1,
      maxItems: 10,
    },
    stepSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
    maxSurge: { type: 'integer', minimum: 1, maximum: 50 },
    maxUnavailable: { type: 'integer', minimum: 0, maximum: 50 },
    marginalTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 604_800 },
    warmSeconds: { type: 'integer', minimum: 0, maximum: 86_400 },
  },
  required: [
    'replicas',
    'canarySteps',
    'stepSeconds',
    'maxSurge',
    'maxUnavailable',
    'marginalTimeoutSeconds',
    'warmSeconds',
  ],
  additionalProperties: false,
} as const;

export const ReleaseRequestedV1 = defineEvent<ReleaseRequestedV1, 'ReleaseRequested'>({
  type: 'ReleaseRequested',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release of a digest-pinned artifact to a service was accepted.',
  schema: {
    type: 'object',
    properties: {
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      artifact: artifactSchema,
      strategy: { type: 'string', enum: ['rolling', 'blue-green', 'canary'] },
      plan: { ...planSchema, nullable: true },
      version: { type: 'string', minLength: 1, maxLength: 100, nullable: true },
      firstRelease: { type: 'boolean', nullable: true },
    },
    required: ['releaseId', 'service', 'artifact', 'strategy'],
    additionalProperties: false,
  },
});

/**
 * Version 2: a rolling plan may have `maxSurge` 0 (replace in place, `maxUnavailable` instances at a
 * time); v1 required at least 1. Same fields, so the upcaster only moves the version on. The
 * optional fields after it came with service policies (issue 12): what the release took from the
 * policy in force (or its request overrode), so it never reads the policy again.
 */
export interface ReleaseRequestedV2 extends ReleaseRequestedV1 {
  /** The service policy version whose defaults the release took; absent: no policy. */
  policy?: { version: number };
  /** The canary config that judges the release; absent: the one named after the service. */
  canaryConfig?: string;
  /** What the release may do when traffic is too low to compare. */
  lowTraffic?: LowTrafficChoicesV1;
  /** Who owns the service, from its policy. */
  owners?: string[];
}

const planSchemaV2 = {
  ...planSchema,
  properties: {
    ...planSchema.properties,
    maxSurge: { type: 'integer', minimum: 0, maximum: 50 },
  },
} as const;

export const ReleaseRequestedV2 = defineEvent<ReleaseRequestedV2, 'ReleaseRequested'>({
  ...(ReleaseRequestedV1 as Omit<typeof ReleaseRequestedV1, 'schema'>),
  version: 2,
  // Ajv's schema type cannot follow the optional nested objects; the lock test checks the schema.
  schema: {
    ...ReleaseRequestedV1.schema,
    properties: {
      ...ReleaseRequestedV1.schema.properties,
      plan: { ...planSchemaV2, nullable: true },
      policy: {
        type: 'object',
        properties: { version: { type: 'integer', minimum: 1 } },
        required: ['version'],
        additionalProperties: false,
        nullable: true,
      },
      canaryConfig: { type: 'string', pattern: SERVICE_NAME_PATTERN, nullable: true },
      lowTraffic: { ...lowTrafficSchema, nullable: true },
      owners: {
        type: 'array',
        items: { type: 'string', minLength: 1, maxLength: 200 },
        maxItems: 50,
        nullable: true,
      },
    },
  } as never,
});

/** v1 -> v2: every v1 plan is a valid v2 plan. */
export const upcastReleaseRequestedV1 = (data: ReleaseRequestedV1): ReleaseRequestedV2 => data;

export interface ReleaseAbortedV1 {
  releaseId: string;
  service: string;
  reason: string;
}

export const ReleaseAbortedV1 = defineEvent<ReleaseAbortedV1, 'ReleaseAborted'>({
  type: 'ReleaseAborted',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release was stopped before completion; traffic returns to the stable version.',
  schema: {
    type: 'object',
    properties: {
      releaseId: { type: 'string', minLength: 1 },
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      reason: { type: 'string', minLength: 1 },
    },
    required: ['releaseId', 'service', 'reason'],
    additionalProperties: false,
  },
});

const releaseRef = {
  releaseId: { type: 'string', minLength: 1 },
  service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
} as const;

export type GroupWeights = Partial<Record<VersionGroup, number>>;

const weightsSchema = {
  type: 'object',
  properties: Object.fromEntries(
    VERSION_GROUPS.map((g) => [g, { type: 'integer', minimum: 0, maximum: 100, nullable: true }]),
  ),
  required: [],
  additionalProperties: false,
} as const;

/** A step of the release began: the traffic shares it aims for. */
export interface ReleaseStepStartedV1 {
  releaseId: string;
  service: string;
  step: number;
  /** What the step does, e.g. "canary 25%", "switch to green", "batch 2 of 4". */
  description: string;
  weights: GroupWeights;
}

export const ReleaseStepStartedV1 = defineEvent<ReleaseStepStartedV1, 'ReleaseStepStarted'>({
  type: 'ReleaseStepStarted',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release step began; its weights are requested from the router.',
  schema: {
    type: 'object',
    properties: {
      ...releaseRef,
      step: { type: 'integer', minimum: 0 },
      description: { type: 'string', minLength: 1 },
      weights: weightsSchema as never,
    },
    required: ['releaseId', 'service', 'step', 'description', 'weights'],
    additionalProperties: false,
  },
});

/** A step's gate passed (analysis verdict or health checks), so the release may go on. */
export interface ReleaseStepCompletedV1 {
  releaseId: string;
  service: string;
  step: number;
  evidence: string;
}

export const ReleaseStepCompletedV1 = defineEvent<ReleaseStepCompletedV1, 'ReleaseStepCompleted'>({
  type: 'ReleaseStepCompleted',
  version: 1,
  topic: TOPICS.releases,
  description: 'A release step passed its gate.',
  schema: {
    type: 'object',
    properties: {
      ...releaseRef,
      step: { type: 'integer', minimum: 0 },
      evidence: { type: 'string', minLength: 1 },
    },
    required: ['releaseId', 'service', 'step', 'evidence'],
    additionalProperties: false,
  },
});

/** What kind of gate let a step pass; `unknown` only for v1 events whose evidence says nothing. */
export type StepGateKind = 'analysis' | 'health' | 'warm' | 'promotion' | 'unknown';

/**
 * Version 2: the free-text `evidence` moved into a structured `gate`, so a postmortem can tell an
 * analysis verdict from a health check or a person's promotion without parsing words.
 */
export interface ReleaseStepCompletedV2 {
  releaseId: string;
  service: string;
  step: number;
  gate: { kind: StepGateKind; evidence: string };
}

export const ReleaseStepCompletedV2 = defineEvent<ReleaseStepCompletedV2, 'ReleaseStepCompleted'>({
  type: 'ReleaseStepCompleted',
  version: 2,
  topic: TOPICS.releases,
  description: 'A release step passed its gate: which kind of gate, and the evidence.',
  schema: {
    type: 'object',
    properties: {
      ...releaseRef,
      step: { type: 'integer', minimum: 0 },
      gate: {
        type: 'object',
        properties: {
          kind: { type: 'string', enum: ['analysis', 'health', 'warm', 'promotion', 'unknown'] },
          evidence: { type: 'string', minLength: 1 },
        },
        required: ['kind', 'evidence'],
        additionalProperties: false,
      },
    },
    required: ['releaseId', 'service', 'step', 'gate'],
    additionalProperties: false,
  },
});

/**
 * v1 -> v2. The v1 producers wrote evidence in a few fixed forms; the gate kind is read from
 * them, and anything else is `unknown` rather than a guess. Pure: same v1 data, same v2 data.
 */
export function upcastReleaseStepCompletedV1(data: ReleaseStepCompletedV1): ReleaseStepCompletedV2 {
  const { evidence, ...rest } = data;
  const kind: StepGateKind = evidence.startsWith('analysis ')
    ? 'analysis'
    : evidence.startsWith('promoted by ')
      ? 'promotion'
      : / kept warm for /.test(evidence)
        ? 'warm'
        : /^all .* instances healthy$/.test(evidence)
          ? 'health'
          : 'unknown';
  return { ...rest, gate: { kind, evidence } };
}

/** Why a release changed state, for the status line and the postmortem. */
interface ReasonedV1 {
  releaseId: string;
  service: string;
  reason: string;
}

const reasoned = (type: string, description: string) =>
  defineEvent<ReasonedV1>({
    type,
    version: 1,
    topic: TOPICS.releases,
    description,
    schema: {
      type: 'object',
      properties: { ...releaseRef, reason: { type: 'string', minLength: 1 } },
      required: ['releaseId', 'service', 'reason'],
      additionalProperties: false,
    },
  });

export type ReleasePausedV1 = ReasonedV1;
export const ReleasePausedV1 = reasoned(
  'ReleasePaused',
  'A release stopped advancing until a person resumes it (or its timeout rolls it back).',
);
export type ReleaseResumedV1 = ReasonedV1;
export const ReleaseResumedV1 = reasoned('ReleaseResumed', 'A paused release goes on.');
export type ReleasePromotedV1 = ReasonedV1;
export const ReleasePromotedV1 = reasoned(
  'ReleasePromoted',
  'A person promoted the release past its remaining steps.',
);
export type ReleaseRollbackStartedV1 = ReasonedV1;
export const ReleaseRollbackStartedV1 = reasoned(
  'ReleaseRollbackStarted',
  'Traffic is going back to the stable version.',
);
export type ReleaseRolledBackV1 = ReasonedV1;
export const ReleaseRolledBackV1 = reasoned(
  'ReleaseRolledBack',
  'All traffic is on the stable version again and the new instances are retired.',
);
export type ReleaseSucceededV1 = ReasonedV1;
export const ReleaseSucceededV1 = reasoned(
  'ReleaseSucceeded',
  'The new version serves all traffic and is the stable version now.',
);

/** An instance runs something other than what the orchestrator intended (Knight Capital guard). */
export interface FleetDriftDetectedV1 {
  service: string;
  releaseId: string | null;
  instanceId: string;
  intendedDigest: string;
  reportedDigest: string | null;
}

export const FleetDriftDetectedV1 = defineEvent<FleetDriftDetectedV1, 'FleetDriftDetected'>({
  type: 'FleetDriftDetected',
  version: 1,
  topic: TOPICS.releases,
  description:
    'An instance reports a build the orchestrator did not intend; the release stops advancing.',
  schema: {
    type: 'object',
    properties: {
      service: { type: 'string', pattern: SERVICE_NAME_PATTERN },
      releaseId: { type: 'string', minLength: 1, nullable: true } as never,
      instanceId: { type: 'string', minLength: 1 },
      intendedDigest: { type: 'string', pattern: DIGEST_PATTERN },
      reportedDigest: { type: 'string', minLength: 1, nullable: true } as never,
    },
    required: ['service', 'releaseId', 'instanceId', 'intendedDigest', 'reportedDigest'],
    additionalProperties: false,
  },
});
