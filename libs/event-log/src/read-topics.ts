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
  for (const topic of options.topics) {
    for await (const logged of log.readRange({
      topic,
      onMalformed: options.onMalformed ?? 'stop',
      ...(options.reportMalformed ? { reportMalformed: options.reportMalformed } : {}),
    })) {
      read++;
      if (options.onProgress && read % every === 0) options.onProgress(read);
      if (!options.keep || options.keep(logged.event)) kept.push(logged);
    }
  }
  options.onProgress?.(read);
  return kept;
}
