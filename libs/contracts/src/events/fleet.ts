import {
  defineEvent,
  DIGEST_PATTERN,
  SERVICE_NAME_PATTERN,
  VERSION_GROUPS,
  type VersionGroup,
} from '../definition';
import { TOPICS } from '../topics';

/** A host name as an agent is started with (`rollgate agent --host NAME`). */
export const HOST_NAME_PATTERN = '^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$';
const ID = { type: 'string', minLength: 1, maxLength: 128 } as const;
const HOST = { type: 'string', pattern: HOST_NAME_PATTERN } as const;
const SERVICE = { type: 'string', pattern: SERVICE_NAME_PATTERN } as const;
const GROUP = { type: 'string', enum: VERSION_GROUPS } as const;
const TIME = { type: 'string', format: 'date-time' } as const;
const PORT = { type: 'integer', minimum: 1, maximum: 65_535 } as const;

/** The orchestrator's fleet driver asks one host's agent to start an instance. */
export interface InstanceStartRequestedV1 {
  commandId: string;
  host: string;
  instanceId: string;
  service: string;
  group: VersionGroup;
  version: string;
  digest: string;
  /** Flags the build reads; the instance reports them. */
  flags: string[];
  apiProvides: string | null;
  apiConsumes: string | null;
  /** Ports the instance may listen on (inclusive); null: any free port. */
  portRange: { from: number; to: number } | null;
  requestedAt: string;
  /** An agent that reads the command later (it was down) does not run it. */
  expiresAt: string;
}

export const InstanceStartRequestedV1 = defineEvent<
  InstanceStartRequestedV1,
  'InstanceStartRequested'
>({
  type: 'InstanceStartRequested',
  version: 1,
  topic: TOPICS.fleet,
  description:
    'The fleet driver asks the agent of `host` to start one instance of a digest in a version group; the agent answers InstanceStarted or InstanceStartFailed. Ignored after `expiresAt`.',
  schema: {
    type: 'object',
    properties: {
      commandId: ID,
      host: HOST,
      instanceId: ID,
      service: SERVICE,
      group: GROUP,
      version: { type: 'string', minLength: 1, maxLength: 128 },
      digest: { type: 'string', pattern: DIGEST_PATTERN },
      flags: { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 500 },
      apiProvides: { type: 'string', pattern: DIGEST_PATTERN, nullable: true } as never,
      apiConsumes: { type: 'string', pattern: DIGEST_PATTERN, nullable: true } as never,
      portRange: {
        type: 'object',
        properties: { from: PORT, to: PORT },
        required: ['from', 'to'],
        additionalProperties: false,
        nullable: true,
      } as never,
      requestedAt: TIME,
      expiresAt: TIME,
    },
    required: [
      'commandId',
      'host',
      'instanceId',
      'service',
      'group',
      'version',
      'digest',
      'flags',
      'apiProvides',
      'apiConsumes',
      'portRange',
      'requestedAt',
      'expiresAt',
    ],
    additionalProperties: false,
  },
});

/** The fleet driver asks an agent to stop one instance (graceful, then forced). */
export interface InstanceStopRequestedV1 {
  commandId: string;
  host: string;
  instanceId: string;
  reason: string;
  requestedAt: string;
}

export const InstanceStopRequestedV1 = defineEvent<
  InstanceStopRequestedV1,
  'InstanceStopRequested'
>({
  type: 'InstanceStopRequested',
  version: 1,
  topic: TOPICS.fleet,
  description:
    'The fleet driver asks the agent of `host` to stop an instance (SIGTERM, then SIGKILL); the agent answers InstanceStopped. Stopping an unknown instance is a no-op.',
  schema: {
    type: 'object',
    properties: {
      commandId: ID,
      host: HOST,
      instanceId: ID,
      reason: { type: 'string', maxLength: 500 },
      requestedAt: TIME,
    },
    required: ['commandId', 'host', 'instanceId', 'reason', 'requestedAt'],
    additionalProperties: false,
  },
});

/** An agent runs an instance: started on request, or adopted after the agent's own restart. */
export interface InstanceStartedV1 {
  /** The start command it answers; null when the instance was adopted. */
  commandId: string | null;
  host: string;
  instanceId: string;
  service: string;
  group: VersionGroup;
  digest: string;
  /** Where the instance is reachable: the agent's address and the instance's port. */
  address: string;
  port: number;
  pid: number;
  adopted: boolean;
}

export const InstanceStartedV1 = defineEvent<InstanceStartedV1, 'InstanceStarted'>({
  type: 'InstanceStarted',
  version: 1,
  topic: TOPICS.fleet,
  description:
    'An agent runs an instance at address:port: it answered its health check after a start command, or (adopted) it was still alive when the agent restarted.',
  schema: {
    type: 'object',
    properties: {
      commandId: { ...ID, nullable: true } as never,
      host: HOST,
      instanceId: ID,
      service: SERVICE,
      group: GROUP,
      digest: { type: 'string', pattern: DIGEST_PATTERN },
      address: { type: 'string', minLength: 1, maxLength: 255 },
      port: PORT,
      pid: { type: 'integer', minimum: 1 },
      adopted: { type: 'boolean' },
    },
    required: [
      'commandId',
      'host',
      'instanceId',
      'service',
      'group',
      'digest',
      'address',
      'port',
      'pid',
      'adopted',
    ],
    additionalProperties: false,
  },
});

/** An agent could not start an instance (no capacity, crashed on start, no free port, ...). */
export interface InstanceStartFailedV1 {
  commandId: string;
  host: string;
  instanceId: string;
  reason: string;
}

export const InstanceStartFailedV1 = defineEvent<InstanceStartFailedV1, 'InstanceStartFailed'>({
  type: 'InstanceStartFailed',
  version: 1,
  topic: TOPICS.fleet,
  description: 'An agent could not start the instance a command asked for; the reason says why.',
  schema: {
    type: 'object',
    properties: {
      commandId: ID,
      host: HOST,
      instanceId: ID,
      reason: { type: 'string', maxLength: 2000 },
    },
    required: ['commandId', 'host', 'instanceId', 'reason'],
    additionalProperties: false,
  },
});

export type InstanceStopReason = 'requested' | 'exited' | 'cleaned-up';

/** An instance an agent ran is gone: stopped on request, exited by itself, or cleaned up. */
export interface InstanceStoppedV1 {
  host: string;
  instanceId: string;
  service: string;
  /** `cleaned-up`: found dead, or not answering as itself, when the agent restarted. */
  reason: InstanceStopReason;
  exitCode: number | null;
}

export const InstanceStoppedV1 = defineEvent<InstanceStoppedV1, 'InstanceStopped'>({
  type: 'InstanceStopped',
  version: 1,
  topic: TOPICS.fleet,
  description:
    'An instance an agent ran is gone: stopped on request, exited by itself, or cleaned up when the agent restarted (dead, or not answering as itself).',
  schema: {
    type: 'object',
    properties: {
      host: HOST,
      instanceId: ID,
      service: SERVICE,
      reason: { type: 'string', enum: ['requested', 'exited', 'cleaned-up'] },
      exitCode: { type: 'integer', nullable: true } as never,
    },
    required: ['host', 'instanceId', 'service', 'reason', 'exitCode'],
    additionalProperties: false,
  },
});

export interface AgentInstanceReport {
  instanceId: string;
  service: string;
  group: VersionGroup;
  digest: string;
  port: number;
  pid: number;
}

/** An agent is alive: its capacity, what it runs, and how long its silence may last. */
export interface AgentHeartbeatV1 {
  host: string;
  /** One agent process's life: a restarted agent has a new one. */
  agentId: string;
  address: string;
  capacity: number;
  used: number;
  instances: AgentInstanceReport[];
  startedAt: string;
  intervalMs: number;
  /** Silence after which the agent counts as lost (its instances gone). */
  lostAfterMs: number;
}

export const AgentHeartbeatV1 = defineEvent<AgentHeartbeatV1, 'AgentHeartbeat'>({
  type: 'AgentHeartbeat',
  version: 1,
  topic: TOPICS.fleet,
  description:
    'An agent is alive (every intervalMs): its capacity, the instances it runs, and the silence after which fleet drivers count it as lost.',
  schema: {
    type: 'object',
    properties: {
      host: HOST,
      agentId: ID,
      address: { type: 'string', minLength: 1, maxLength: 255 },
      capacity: { type: 'integer', minimum: 0, maximum: 10_000 },
      used: { type: 'integer', minimum: 0 },
      instances: {
        type: 'array',
        maxItems: 10_000,
        items: {
          type: 'object',
          properties: {
            instanceId: ID,
            service: SERVICE,
            group: GROUP,
            digest: { type: 'string', pattern: DIGEST_PATTERN },
            port: PORT,
            pid: { type: 'integer', minimum: 1 },
          },
          required: ['instanceId', 'service', 'group', 'digest', 'port', 'pid'],
          additionalProperties: false,
        },
      },
      startedAt: TIME,
      intervalMs: { type: 'integer', minimum: 100 },
      lostAfterMs: { type: 'integer', minimum: 200 },
    },
    required: [
      'host',
      'agentId',
      'address',
      'capacity',
      'used',
      'instances',
      'startedAt',
      'intervalMs',
      'lostAfterMs',
    ],
    additionalProperties: false,
  },
});

/** A fleet driver stopped hearing from an agent: its instances' capacity is lost. */
export interface FleetAgentLostV1 {
  host: string;
  lastHeartbeatAt: string;
  detectedAt: string;
  /** Until then the lost instances count as unhealthy and nothing new starts for their services. */
  holdUntil: string;
  instances: { instanceId: string; service: string; group: VersionGroup }[];
  services: string[];
}

export const FleetAgentLostV1 = defineEvent<FleetAgentLostV1, 'FleetAgentLost'>({
  type: 'FleetAgentLost',
  version: 1,
  topic: TOPICS.fleet,
  description:
    "A fleet driver heard no heartbeat from an agent for its lostAfterMs: capacity lost. The agent's instances count as unhealthy and their services' new instances wait until holdUntil; then the instances count as gone and are started again on hosts with free capacity (a release whose new build cannot be placed rolls back).",
  schema: {
    type: 'object',
    properties: {
      host: HOST,
      lastHeartbeatAt: TIME,
      detectedAt: TIME,
      holdUntil: TIME,
      instances: {
        type: 'array',
        maxItems: 10_000,
        items: {
          type: 'object',
          properties: { instanceId: ID, service: SERVICE, group: GROUP },
          required: ['instanceId', 'service', 'group'],
          additionalProperties: false,
        },
      },
      services: { type: 'array', items: SERVICE, maxItems: 10_000 },
    },
    required: ['host', 'lastHeartbeatAt', 'detectedAt', 'holdUntil', 'instances', 'services'],
    additionalProperties: false,
  },
});
