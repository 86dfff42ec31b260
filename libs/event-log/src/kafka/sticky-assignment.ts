import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** Partitions per topic, e.g. `{ 'rollgate.releases': [0, 3] }`. */
export type TopicAssignment = Record<string, number[]>;

export interface StickyMember {
  id: string;
  /** What the member held before this rebalance (empty for a member that just joined). */
  previous: TopicAssignment;
}

/**
 * Balanced and sticky: every member gets its fair share of each topic (the counts differ by at
 * most one), and a partition stays with the member that held it unless balance needs it
 * elsewhere. A member joining a group of two owning 3 + 3 partitions takes one from each; the
 * round-robin default reshuffles most of them, and every partition that moves stops its
 * consumers' work, so its owners' decisions wait, until the new member has caught up.
 */
export function stickyAssignment(
  members: StickyMember[],
  partitionsByTopic: Record<string, number[]>,
): Record<string, TopicAssignment> {
  const ids = members.map((m) => m.id).sort();
  const result: Record<string, TopicAssignment> = Object.fromEntries(ids.map((id) => [id, {}]));
  if (ids.length === 0) return result;
  const previous = new Map(members.map((m) => [m.id, m.previous]));
  const total = new Map(ids.map((id) => [id, 0]));
  for (const topic of Object.keys(partitionsByTopic).sort()) {
    const partitions = [...partitionsByTopic[topic]!].sort((a, b) => a - b);
    const free = new Set(partitions);
    // What each member may keep: partitions it held that still exist, each claimed once.
    const kept = new Map<string, number[]>();
    for (const id of ids) {
      const mine = (previous.get(id)?.[topic] ?? []).filter((p) => free.delete(p));
      kept.set(
        id,
        mine.sort((a, b) => a - b),
      );
    }
    // Shares: floor or ceil of the fair share. The ceil goes to those keeping most (fewest
    // moves), then to those with the least work so far over all topics.
    const base = Math.floor(partitions.length / ids.length);
    let larger = partitions.length % ids.length;
    const byClaim = [...ids].sort(
      (a, b) =>
        kept.get(b)!.length - kept.get(a)!.length ||
        total.get(a)! - total.get(b)! ||
        a.localeCompare(b),
    );
    const share = new Map<string, number>();
    for (const id of byClaim) share.set(id, base + (larger-- > 0 ? 1 : 0));
    for (const id of ids) {
      const mine = kept.get(id)!;
      for (const dropped of mine.splice(share.get(id)!)) free.add(dropped);
    }
    const unassigned = [...free].sort((a, b) => a - b);
    for (const id of ids) {
      const mine = kept.get(id)!;
      while (mine.length < share.get(id)! && unassigned.length > 0) mine.push(unassigned.shift()!);
      mine.sort((a, b) => a - b);
      if (mine.length > 0) result[id]![topic] = mine;
      total.set(id, total.get(id)! + mine.length);
    }
  }
  return result;
}

/** Reads what a member said it held; anything unreadable counts as nothing held. */
export function decodeHeld(userData: Buffer | null | undefined): TopicAssignment {
  if (!userData || userData.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(userData.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed as Record<string, unknown>).filter(
        (entry): entry is [string, number[]] =>
          Array.isArray(entry[1]) && entry[1].every((p) => Number.isInteger(p) && p >= 0),
      ),
    );
  } catch {
    return {};
  }
}

export const STICKY_ASSIGNER_NAME = 'RollgateStickyAssigner';

/**
 * kafkajs assigner running `stickyAssignment`: each member sends what it holds in its join
 * metadata, and the group's leader assigns from that. `held` reads the member's last assignment.
 */
export function stickyAssigner(held: () => TopicAssignment): PartitionAssigner {
  return ({ cluster }) => ({
    name: STICKY_ASSIGNER_NAME,
    version: 0,
    async assign({ members, topics }) {
      await cluster.refreshMetadataIfNecessary();
      const partitionsByTopic = Object.fromEntries(
        topics.map((topic) => [
          topic,
          cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId),
        ]),
      );
      const assignment = stickyAssignment(
        members.map(({ memberId, memberMetadata }) => ({
          id: memberId,
          previous: decodeHeld(AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData),
        })),
        partitionsByTopic,
      );
      return Object.entries(assignment).map(([memberId, partitions]) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: partitions,
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: STICKY_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 0,
          topics,
          userData: Buffer.from(JSON.stringify(held())),
        }),
      };
    },
  });
}
