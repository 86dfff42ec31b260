import { Kafka, logLevel, type logCreator } from 'kafkajs';
// kafkajs's table of protocol errors, to tell the ones it retries by itself (kafkajs is pinned).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { errorCodes } = require('kafkajs/src/protocol/error') as {
  errorCodes: { message: string; retriable: boolean }[];
};

/** Where the adapter's own lines and kafkajs's lines go: the host's logger. */
export interface LogSink {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/** For hosts without a logger (the CLI, scripts, benches): stderr, so stdout stays the output. */
export const CONSOLE_SINK: LogSink = {
  error: (m) => console.error(m),
  warn: (m) => console.error(m),
  info: (m) => console.error(m),
  debug: () => undefined,
};

/** Answers kafkajs deals with itself: retriable ones, and the two a group member rejoins on. */
const HANDLED_BY_KAFKAJS = new Set([
  ...errorCodes.filter((e) => e.retriable).map((e) => e.message),
  'The group is rebalancing, so a rejoin is needed',
  'The coordinator is not aware of this member',
]);

/**
 * A kafkajs log line at our level. kafkajs logs a retriable protocol answer (a coordinator still
 * loading on a fresh broker) or a rebalance as ERROR although it retries or rejoins by itself:
 * those are debug here; a failure that reaches us still surfaces through the subscription's
 * crash or the failed call.
 */
export function levelOf(level: logLevel, error: unknown): keyof LogSink | undefined {
  if (level === logLevel.ERROR && typeof error === 'string' && HANDLED_BY_KAFKAJS.has(error))
    return 'debug';
  switch (level) {
    case logLevel.ERROR:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'info';
    case logLevel.DEBUG:
      return 'debug';
    default:
      return undefined;
  }
}

/** Routes kafkajs's logs to a sink, with their levels mapped by `levelOf`. */
export function kafkajsLogCreator(sink: LogSink): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, error, ...fields } = log;
      const rest = Object.fromEntries(Object.entries(fields).filter(([k]) => k !== 'namespace'));
      const target = levelOf(level, error);
      if (!target) return;
      const detail = error === undefined ? '' : `: ${String(error)}`;
      const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
      sink[target](`kafkajs ${message}${detail}${extra}`);
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the brokers answer and can coordinate consumer groups (a fresh broker loads its
 * group coordinator for a moment after it starts). Says so once, in one info line, instead of
 * letting every client log connection errors. Throws after `timeoutMs`.
 */
export async function waitForKafka(
  brokers: string[],
  sink: LogSink,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let said = false;
  for (;;) {
    const probe = new Kafka({
      clientId: 'rollgate-readiness',
      brokers,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 1000,
    }).admin();
    try {
      await probe.connect();
      await probe.describeCluster();
      // Finds the group coordinator; fails while it is still loading.
      await probe.describeGroups(['rollgate-readiness']);
      return;
    } catch (error) {
      if (Date.now() >= deadline) {
        throw new Error(
          `Kafka at ${brokers.join(',')} did not become ready within ${timeoutMs / 1000} s: ${(error as Error).message}`,
        );
      }
      if (!said) {
        sink.info(
          `waiting for Kafka at ${brokers.join(',')} (${(error as Error).message}); start it with npm run kafka:start`,
        );
        said = true;
      }
      await sleep(500);
    } finally {
      await probe.disconnect().catch(() => undefined);
    }
  }
}
