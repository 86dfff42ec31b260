import { Logger } from '@nestjs/common';
import type { TopicDefinition } from '@rollgate/contracts';
import { partitionForKey, type Subscription } from '@rollgate/event-log';
import { consumerGroupId } from '../config/config';
import type { ServiceRuntime } from './service-runtime';

/**
 * Which keys (services) this replica may drive. Replicas of a service that runs a loop share
 * the loop's work the way they share a topic: as members of one consumer group, each owning the
 * keys whose partitions the group assigns to it. Kafka does the membership, failure detection
 * and rebalancing; the embedded log has one member, which owns everything.
 */
export interface WorkOwnership {
  /** True while this replica owns the key's partition. */
  owns(key: string): boolean;
  /** Partitions owned now, as `topic:partition`. */
  owned(): string[];
  /**
   * True while a rebalance is in progress: nothing is owned, but what was owned may come back.
   * A loop keeps what it knows about its keys instead of letting them go, until it is told.
   */
  rebalancing(): boolean;
  /** Called each time the group assigns this replica its partitions. */
  onAssigned(listener: () => void): void;
  stop(): Promise<void>;
}

/**
 * Joins the loop's owners group on the topic its work is keyed by. The member reads nothing
 * (the read models do; `holdOnly`): it only holds partitions. While a rebalance is in progress
 * it owns nothing, so a replica stops starting work on a key before the new owner is assigned
 * it; a pass already running is fenced by the event store's expected stream version.
 */
export async function claimWorkByPartition(
  runtime: Pick<ServiceRuntime, 'config' | 'service' | 'log' | 'claims'>,
  options: { loop: string; topic: TopicDefinition },
): Promise<WorkOwnership> {
  const { topic } = options;
  const logger = new Logger(`${options.loop}-owners`);
  let last = '';
  const listeners: Array<() => void> = [];
  // `<prefix><service>-owners-<loop>`, e.g. rollgate_orchestrator-owners-releases.
  const groupId = consumerGroupId(runtime.config, runtime.service, `owners-${options.loop}`);
  const subscription: Subscription = await runtime.log.subscribe({
    groupId,
    topics: [topic.name],
    fromBeginning: false,
    holdOnly: true,
    handle: () => Promise.resolve(),
    onAssigned: () => {
      for (const listener of listeners) listener();
    },
  });
  const owned = () => subscription.assignedPartitions();
  runtime.claims.set(groupId, owned);
  return {
    owned,
    owns(key) {
      const mine = owned();
      const now = mine.join(',');
      if (now !== last) {
        last = now;
        logger.log(`owns ${mine.length} of ${topic.partitions} partitions of ${topic.name}`);
      }
      return mine.includes(`${topic.name}:${partitionForKey(key, topic.partitions)}`);
    },
    rebalancing: () => subscription.rebalancing(),
    onAssigned: (listener) => listeners.push(listener),
    stop: () => {
      runtime.claims.delete(groupId);
      return subscription.stop();
    },
  };
}

/** Until a loop has joined its owners group, and in tests that drive a loop by hand: one owner. */
export const SOLE_OWNER: WorkOwnership = {
  owns: () => true,
  owned: () => [],
  rebalancing: () => false,
  onAssigned: () => undefined,
  stop: () => Promise.resolve(),
};
