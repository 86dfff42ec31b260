/** Kafka topics (and embedded-log streams). Partition counts never change: keys would move. */
export interface TopicDefinition {
  name: string;
  partitions: number;
  description: string;
  /** What the message key (envelope `key`) is on this topic. */
  keyDescription: string;
}

export const TOPICS = {
  releases: {
    name: 'rollgate.releases',
    partitions: 6,
    description: 'Release lifecycle: requested, steps, pauses, promotion, abort and rollback.',
    keyDescription: 'service name',
  },
  routing: {
    name: 'rollgate.routing',
    partitions: 6,
    description: 'Route tables applied to data planes.',
    keyDescription: 'service name',
  },
  analysis: {
    name: 'rollgate.analysis',
    partitions: 6,
    description: 'Canary analysis runs: interval scores and verdicts.',
    keyDescription: 'service name',
  },
  flags: {
    name: 'rollgate.flags',
    partitions: 6,
    description: 'Feature flag definitions, rules, rollouts, kills and retirements.',
    keyDescription: "flag project: one project's changes stay in ruleset-version order",
  },
  migrations: {
    name: 'rollgate.migrations',
    partitions: 6,
    description: 'Schema migrations: expand, migrate and contract phases.',
    keyDescription: 'service name',
  },
  subscriptions: {
    name: 'rollgate.subscriptions',
    partitions: 3,
    description: 'Webhook subscriptions of tools outside Kafka: created and deleted.',
    keyDescription: 'subscription id',
  },
  fleet: {
    name: 'rollgate.fleet',
    partitions: 6,
    description:
      'Fleet agents: instance commands for a host, what each agent runs, heartbeats, agents lost.',
    keyDescription: 'host name',
  },
} as const satisfies Record<string, TopicDefinition>;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]['name'];

export const ALL_TOPICS: TopicDefinition[] = Object.values(TOPICS);

/** Malformed messages found on `topic` are moved here, with the error in a header. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`;
}
