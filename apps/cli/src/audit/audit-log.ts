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
import {
  replayReport,
  subjectOf,
  type ReplayCut,
  type ReplayReport,
  type SubjectRef,
} from '@rollgate/audit';
import type { RollgateConfig } from '@rollgate/platform';
import type { CliContext, CliOutput } from '../context';

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
    // A person is waiting: say within seconds that the broker is not there.
    return new KafkaEventLog({
      brokers: config.kafkaBrokers,
      clientId: 'rollgate-audit',
      readyTimeoutMs: 15_000,
    });
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

/** Exit codes of the commands that replay a subject: 1 nothing to replay, 2 bad arguments, 3 a malformed event stopped it. */
export const REPLAY_EXIT = { notFound: 1, usage: 2, malformed: 3 } as const;

/**
 * Reads a subject's events from the log and replays them up to `cut`. Every way it can fail is
 * said in one line with its exit code; then it resolves undefined and the command just returns.
 */
export async function replayFromLog(
  context: CliContext,
  setExitCode: (code: number) => void,
  ref: SubjectRef,
  cut: ReplayCut,
  skipInvalid: boolean,
): Promise<ReplayReport | undefined> {
  const subject = subjectOf(ref);
  let log: EventLog;
  try {
    log = openAuditLog(context.config);
  } catch (error) {
    if (!(error instanceof AuditLogError)) throw error;
    context.output.err(`error: ${error.message}\n`);
    setExitCode(REPLAY_EXIT.notFound);
    return undefined;
  }
  try {
    const { events } = await readAuditLog(log, context.output, {
      topics: subject.topics,
      keep: (event) => subject.belongs(event),
      samePartitions: subject.keyedAlike === true,
      skipInvalid,
    });
    const report = replayReport(ref, events, cut);
    if (report.events.total > 0) return report;
    context.output.err(`error: ${ref.kind} ${ref.id} has no events in the log\n`);
    setExitCode(REPLAY_EXIT.notFound);
  } catch (error) {
    if (!(error instanceof MalformedEventError)) throw error;
    context.output.err(`${describeStop(error)}\n`);
    setExitCode(REPLAY_EXIT.malformed);
  } finally {
    await log.close();
  }
  return undefined;
}
