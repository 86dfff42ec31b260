import type { EventLog } from '@rollgate/event-log';
import type { ProjectionRunner } from './projection-runner';

/** How far one consumer (a projection or handler) is behind the end of the log. */
export interface ConsumerLag {
  /** Events appended but not yet applied, over every partition it reads. */
  events: number;
  /**
   * Seconds since the oldest of them reached the log, to within the sampling interval (null
   * when nothing is behind). Measured from when this process first saw the log end pass it,
   * so a backlog found at start-up is aged from then.
   */
  oldestUnprocessedSeconds: number | null;
}

const MAX_SIGHTINGS = 1000;

/** When the end of a partition was first seen past each offset: (seenAt, end) pairs, ascending. */
type Sightings = { seenAt: number; end: number }[];

/**
 * Consumer lag by sampling: each `sample()` reads the log's end offsets and every consumer's
 * checkpoint. The age of the oldest unprocessed event is the time since the end offset was
 * first seen past that consumer's checkpoint (the method Kafka lag exporters use), so no
 * event has to be read.
 */
export class ConsumerLagTracker {
  private readonly sightings = new Map<string, Sightings>();
  private latest: Record<string, ConsumerLag> = {};

  constructor(
    private readonly log: EventLog,
    private readonly consumers: () => readonly ProjectionRunner[],
    private readonly now: () => number = Date.now,
  ) {}

  /** The last sample's lag per consumer (by projection name). */
  current(): Record<string, ConsumerLag> {
    return this.latest;
  }

  async sample(): Promise<Record<string, ConsumerLag>> {
    const now = this.now();
    const runners = this.consumers();
    const topics = [...new Set(runners.flatMap((r) => r.topics))];
    const ends = new Map<string, number[]>();
    for (const topic of topics) {
      const offsets = await this.log.endOffsets(topic);
      ends.set(topic, offsets);
      offsets.forEach((end, partition) => this.sight(`${topic}:${partition}`, end, now));
    }
    const lag: Record<string, ConsumerLag> = {};
    for (const runner of runners) {
      let events = 0;
      let oldestSeenAt: number | undefined;
      const checkpoints = await runner.checkpoints();
      for (const topic of runner.topics) {
        for (const [partition, end] of (ends.get(topic) ?? []).entries()) {
          const next = checkpoints.get(`${topic}:${partition}`) ?? 0;
          if (next >= end) continue;
          events += end - next;
          const seenAt = this.firstSeenPast(`${topic}:${partition}`, next) ?? now;
          oldestSeenAt = Math.min(oldestSeenAt ?? seenAt, seenAt);
        }
      }
      lag[runner.name] = {
        events,
        oldestUnprocessedSeconds:
          oldestSeenAt === undefined ? null : Math.round((now - oldestSeenAt) / 100) / 10,
      };
    }
    this.latest = lag;
    return lag;
  }

  private sight(slot: string, end: number, now: number): void {
    const list = this.sightings.get(slot) ?? [];
    if (list.length === 0 || list[list.length - 1]!.end < end) list.push({ seenAt: now, end });
    // Bounded: a backlog older than the kept sightings is aged from the oldest one kept.
    if (list.length > MAX_SIGHTINGS) list.splice(0, list.length - MAX_SIGHTINGS);
    this.sightings.set(slot, list);
  }

  /** When the end of a partition was first seen beyond `offset` (so the event at it existed). */
  private firstSeenPast(slot: string, offset: number): number | undefined {
    return this.sightings.get(slot)?.find((s) => s.end > offset)?.seenAt;
  }
}
