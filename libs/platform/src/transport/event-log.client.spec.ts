import { TOPICS, type EventEnvelope } from '@rollgate/contracts';
import type { EventLog, LoggedEvent } from '@rollgate/event-log';
import { lastValueFrom } from 'rxjs';
import { APPEND_EVENTS, EventLogClient } from './event-log.client';

const event = (key: string) => ({ type: 'ReleaseRequested', key }) as EventEnvelope;

/** Records what reaches the log's append, and answers with positions in order. */
function recordingLog(): { log: EventLog; appended: EventEnvelope[][] } {
  const appended: EventEnvelope[][] = [];
  const log = {
    append: async (events: readonly EventEnvelope[]): Promise<LoggedEvent[]> => {
      appended.push([...events]);
      return events.map((e, offset) => ({
        event: e,
        position: { topic: TOPICS.releases.name, partition: 0, offset },
        headers: {},
      }));
    },
  } as unknown as EventLog;
  return { log, appended };
}

describe('EventLogClient', () => {
  it('appends the emitted events to the log in one call and resolves with their positions', async () => {
    const { log, appended } = recordingLog();
    const logged = await new EventLogClient(log).append([event('checkout'), event('orders')]);
    expect(appended).toEqual([[event('checkout'), event('orders')]]);
    expect(logged.map((l) => [l.event.key, l.position.offset])).toEqual([
      ['checkout', 0],
      ['orders', 1],
    ]);
  });

  it('refuses request-response: the log carries events only', async () => {
    const { log, appended } = recordingLog();
    await expect(lastValueFrom(new EventLogClient(log).send(APPEND_EVENTS, []))).rejects.toThrow(
      'the event log carries events: use emit',
    );
    expect(appended).toEqual([]);
  });

  it('refuses a pattern other than its own and writes nothing', async () => {
    const { log, appended } = recordingLog();
    await expect(
      lastValueFrom(new EventLogClient(log).emit('rollgate.delete', [event('checkout')])),
    ).rejects.toThrow(`the event-log client emits ${APPEND_EVENTS}, not rollgate.delete`);
    expect(appended).toEqual([]);
  });
});
