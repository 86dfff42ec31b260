import { logLevel } from 'kafkajs';
import { kafkajsLogCreator, levelOf, type LogSink } from './kafka-logging';

describe('kafkajs logging at our levels', () => {
  it('maps kafkajs levels to ours', () => {
    expect(levelOf(logLevel.ERROR, 'Connection closed')).toBe('error');
    expect(levelOf(logLevel.WARN, undefined)).toBe('warn');
    expect(levelOf(logLevel.INFO, undefined)).toBe('info');
    expect(levelOf(logLevel.DEBUG, undefined)).toBe('debug');
    expect(levelOf(logLevel.NOTHING, undefined)).toBeUndefined();
  });

  it('turns the retriable answers of a fresh broker, which kafkajs retries itself, into debug lines', () => {
    for (const retried of [
      "The coordinator is loading and hence can't process requests for this group",
      'The group coordinator is not available',
      'The group is rebalancing, so a rejoin is needed',
    ]) {
      expect(levelOf(logLevel.ERROR, retried)).toBe('debug');
    }
    // Not retriable: still an error.
    expect(levelOf(logLevel.ERROR, 'Not authorized to access group')).toBe('error');
  });

  it('writes one line per kafkajs entry to the sink', () => {
    const lines: [string, string][] = [];
    const sink: LogSink = {
      error: (m) => lines.push(['error', m]),
      warn: (m) => lines.push(['warn', m]),
      info: (m) => lines.push(['info', m]),
      debug: (m) => lines.push(['debug', m]),
    };
    const log = kafkajsLogCreator(sink)(logLevel.INFO);
    const entry = (level: logLevel, message: string, error?: string) =>
      log({
        namespace: 'Connection',
        level,
        label: 'ERROR',
        log: { timestamp: '', message, ...(error ? { error } : {}), broker: 'b:9092' },
      });
    entry(logLevel.ERROR, 'Response GroupCoordinator', 'The group coordinator is not available');
    entry(logLevel.ERROR, 'Connection error', 'connect ECONNREFUSED');
    expect(lines).toEqual([
      [
        'debug',
        'kafkajs Response GroupCoordinator: The group coordinator is not available {"timestamp":"","broker":"b:9092"}',
      ],
      [
        'error',
        'kafkajs Connection error: connect ECONNREFUSED {"timestamp":"","broker":"b:9092"}',
      ],
    ]);
  });
});
