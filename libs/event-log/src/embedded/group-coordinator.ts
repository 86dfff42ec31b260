/**
 * In-process consumer-group membership for the embedded log: members of a group share the
 * partitions round-robin, and a partition is handled by at most one member at a time.
 * The embedded log serves one process (plus read-only readers such as the CLI).
 */
export class GroupCoordinator {
  private readonly members: string[] = [];
  private readonly busy = new Set<string>();

  join(memberId: string): void {
    if (!this.members.includes(memberId)) this.members.push(memberId);
  }

  leave(memberId: string): void {
    const index = this.members.indexOf(memberId);
    if (index >= 0) this.members.splice(index, 1);
  }

  /** `topic:partition` entries owned by this member, from all partitions the group reads. */
  assignment(memberId: string, partitions: readonly string[]): string[] {
    const index = this.members.indexOf(memberId);
    if (index < 0) return [];
    return [...partitions].sort().filter((_, i) => i % this.members.length === index);
  }

  /** Claims a partition for one batch; false while another member is still handling it. */
  tryClaim(partition: string): boolean {
    if (this.busy.has(partition)) return false;
    this.busy.add(partition);
    return true;
  }

  release(partition: string): void {
    this.busy.delete(partition);
  }

  isEmpty(): boolean {
    return this.members.length === 0;
  }
}
