import type { EventEnvelope } from '@rollgate/contracts';
import type { EventLog, LoggedEvent, MalformedEventError } from './port';

export interface ReadTopicsOptions {
  topics: readonly string[];
  /** Keeps only the events a replay needs, so a long log is not held in memory. */
  keep?: (event: EventEnvelope) => boolean;
  /** `stop` (default): the first malformed message ends the read with MalformedEventError. */
  onMalformed?: 'stop' | 'skip';
  reportMalformed?: (error: MalformedEventError) => void;
  /** Called every `progressEvery` messages read, with the count so far. */
  onProgress?: (read: number) => void;
  progressEvery?: number;
  /**
   * Events with one key land on the same partition number in every topic with the same partition
   * count. When set, the later topics are read only on the partitions where the first topic had
   * kept events (all of them when it had none, or when the counts differ).
   */
  samePartitionsAsFirstTopic?: boolean;
}

/**
 * Reads every partition of several topics to their current end, for replay and audit. Nothing is
 * committed anywhere; order across partitions is left to the caller (libs/audit orders them).
 */
export async function readTopics(
  log: EventLog,
  options: ReadTopicsOptions,
): Promise<LoggedEvent[]> {
  const kept: LoggedEvent[] = [];
  const every = options.progressEvery ?? 10_000;
  let read = 0;
  let narrowTo: { count: number; partitions: number[] } | undefined;
  for (const [index, topic] of options.topics.entries()) {
    let partitions: number[] | undefined;
    if (index > 0 && narrowTo) {
      const count = (await log.endOffsets(topic)).length;
      if (count === narrowTo.count) partitions = narrowTo.partitions;
    }
    const before = kept.length;
    for await (const logged of log.readRange({
      topic,
      ...(partitions ? { partitions } : {}),
      onMalformed: options.onMalformed ?? 'stop',
      ...(options.reportMalformed ? { reportMalformed: options.reportMalformed } : {}),
    })) {
      read++;
      if (options.onProgress && read % every === 0) options.onProgress(read);
      if (!options.keep || options.keep(logged.event)) kept.push(logged);
    }
    if (index === 0 && options.samePartitionsAsFirstTopic && kept.length > before) {
      const found = [...new Set(kept.slice(before).map((l) => l.position.partition))];
      narrowTo = {
        count: (await log.endOffsets(topic)).length,
        partitions: found.sort((a, b) => a - b),
      };
    }
  }
  options.onProgress?.(read);
  return kept;
}
