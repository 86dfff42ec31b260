import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS, type EventEnvelope } from '@rollgate/contracts';
import {
  EmbeddedEventLog,
  KafkaEventLog,
  MalformedEventError,
  readTopics,
  type EventLog,
  type LoggedEvent,
} from '@rollgate/event-log';
import type { RollgateConfig } from '@rollgate/platform';
import type { CliOutput } from '../context';

/** The log is missing or unreadable: nothing to replay, said in one line. */
export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';
}

/**
 * The log the services write, per the same settings (ROLLGATE_EVENT_LOG, ROLLGATE_DATA_DIR,
 * KAFKA_BROKERS). Opening never creates anything: a missing embedded log is an error.
 */
export function openAuditLog(config: RollgateConfig): EventLog {
  if (config.eventLog === 'kafka') {
    return new KafkaEventLog({ brokers: config.kafkaBrokers, clientId: 'rollgate-audit' });
  }
  const file = join(config.dataDir, 'events.db');
  if (!existsSync(file)) {
    throw new AuditLogError(
      `no embedded event log at ${file}: set ROLLGATE_DATA_DIR to the folder the services use`,
    );
  }
  return new EmbeddedEventLog({ file });
}

export interface ReadLogOptions {
  topics?: readonly string[];
  keep?: (event: EventEnvelope) => boolean;
  skipInvalid: boolean;
  /** See ReadTopicsOptions.samePartitionsAsFirstTopic. */
  samePartitions?: boolean;
  /** Progress lines on stderr for long logs. */
  progress?: boolean;
}

/**
 * Reads the topics a replay needs. Every malformed or unknown message is reported with its
 * position; with skipInvalid it is left out, otherwise the read stops there.
 */
export async function readAuditLog(
  log: EventLog,
  output: CliOutput,
  options: ReadLogOptions,
): Promise<{ events: LoggedEvent[]; skipped: MalformedEventError[] }> {
  const topics = options.topics ?? ALL_TOPICS.map((t) => t.name);
  const skipped: MalformedEventError[] = [];
  const present: string[] = [];
  for (const topic of topics) {
    // A topic no service has created yet holds nothing to replay.
    if (
      await log.endOffsets(topic).then(
        () => true,
        () => false,
      )
    )
      present.push(topic);
  }
  const events = await readTopics(log, {
    topics: present,
    ...(options.keep ? { keep: options.keep } : {}),
    samePartitionsAsFirstTopic: options.samePartitions === true,
    onMalformed: options.skipInvalid ? 'skip' : 'stop',
    reportMalformed: (error) => {
      if (!options.skipInvalid) return;
      skipped.push(error);
      output.err(`skipped ${error.message}\n`);
    },
    progressEvery: 50_000,
    ...(options.progress
      ? { onProgress: (read: number) => output.err(`read ${read} events\n`) }
      : {}),
  });
  return { events, skipped };
}

/** The message for a read stopped by a malformed message, with the way around it. */
export function describeStop(error: MalformedEventError): string {
  return `replay stopped: ${error.message}\n  (rerun with --skip-invalid to report it and go on)`;
}
