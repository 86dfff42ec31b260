import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALL_TOPICS, TOPICS, type NewEvent } from '@rollgate/contracts';
import { EmbeddedEventLog } from './embedded/embedded-event-log';
import { partitionForKey } from './partitioner';
import type { EventLog, ReadRangeOptions } from './port';
import { readTopics } from './read-topics';

const route = (service: string, releaseId: string): NewEvent => ({
  type: 'RouteApplied',
  version: 1,
  actor: 'service:router',
  correlationId: releaseId,
  causationId: null,
  key: service,
  data: { service, weights: { stable: 100 }, dataPlane: 'embedded', releaseId },
});
const aborted = (service: string, releaseId: string): NewEvent => ({
  type: 'ReleaseAborted',
  version: 1,
  actor: 'user:x',
  correlationId: releaseId,
  causationId: null,
  key: service,
  data: { service, releaseId, reason: 'test' },
});

describe('readTopics', () => {
  it('reads later topics only on the partitions the first topic used, when asked', async () => {
    const log = new EmbeddedEventLog({
      file: join(mkdtempSync(join(tmpdir(), 'read-topics-')), 'events.db'),
    });
    await log.ensureTopics(ALL_TOPICS);
    const [a, b] = ['alpha', 'omega'];
    expect(partitionForKey(a, 6)).not.toBe(partitionForKey(b, 6));
    await log.append([aborted(a, 'r-a'), aborted(b, 'r-b'), route(a, 'r-a'), route(b, 'r-b')]);
    const calls: ReadRangeOptions[] = [];
    const recording: EventLog = Object.assign(Object.create(log) as EventLog, {
      readRange: (options: ReadRangeOptions) => (calls.push(options), log.readRange(options)),
    });
    const topics = [TOPICS.releases.name, TOPICS.routing.name];
    const keep = (e: { correlationId: string }) => e.correlationId === 'r-a';

    const narrowed = await readTopics(recording, {
      topics,
      keep,
      samePartitionsAsFirstTopic: true,
    });
    expect(narrowed.map((l) => l.event.type)).toEqual(['ReleaseAborted', 'RouteApplied']);
    expect(calls.map((c) => c.partitions)).toEqual([undefined, [partitionForKey(a, 6)]]);

    calls.length = 0;
    const everything = await readTopics(recording, { topics, keep });
    expect(everything.map((l) => l.event.id)).toEqual(narrowed.map((l) => l.event.id));
    expect(calls.map((c) => c.partitions)).toEqual([undefined, undefined]);

    calls.length = 0;
    const none = await readTopics(recording, {
      topics,
      keep: (e) => e.correlationId === 'r-none',
      samePartitionsAsFirstTopic: true,
    });
    expect(none).toEqual([]);
    expect(calls.map((c) => c.partitions)).toEqual([undefined, undefined]);
    await log.close();
  });
});
