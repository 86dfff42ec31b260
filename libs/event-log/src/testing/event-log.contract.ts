import { EventValidationError, KAFKA_HEADERS, type EventCatalog } from '@rollgate/contracts';
import { MalformedEventError, type EventLog, type LoggedEvent, type Subscription } from '../port';
import { partitionForKey } from '../partitioner';
import { contractTopic, testEvent } from './contract-catalog';

/** What the shared suite needs from an adapter, beyond the EventLog port. */
export interface EventLogFixture {
  /** A new client on the same storage, as a separate process would open it. */
  open(catalog: EventCatalog): Promise<EventLog>;
  /** Puts bytes on a topic without validation, as a buggy foreign producer would. */
  writeRaw(topic: string, partition: number, key: string, value: string): Promise<void>;
  /** Raw dead letters of a topic: value and headers. */
  deadLetters(topic: string): Promise<{ value: string; headers: Record<string, string> }[]>;
}

async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function collect(iterable: AsyncIterable<LoggedEvent>): Promise<LoggedEvent[]> {
  const out: LoggedEvent[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const ns = (events: LoggedEvent[]) => events.map((e) => (e.event.data as { n: number }).n);

/** The behaviour every EventLog adapter must show. Runs against Kafka and the embedded log. */
export function describeEventLogContract(adapter: string, fixture: () => EventLogFixture): void {
  describe(`EventLog contract: ${adapter}`, () => {
    const opened: EventLog[] = [];
    const subscriptions: Subscription[] = [];

    async function open(catalog: EventCatalog, topic: Parameters<EventLog['ensureTopics']>[0]) {
      const log = await fixture().open(catalog);
      opened.push(log);
      await log.ensureTopics(topic);
      return log;
    }

    async function subscribe(log: EventLog, ...args: Parameters<EventLog['subscribe']>) {
      const subscription = await log.subscribe(...args);
      subscriptions.push(subscription);
      return subscription;
    }

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await Promise.all(opened.splice(0).map((l) => l.close()));
    });

    it('keeps the order of events per key', async () => {
      const { topic, catalog } = contractTopic();
      const log = await open(catalog, [topic]);
      const keys = ['checkout', 'payments', 'search', 'cart'];
      for (let round = 0; round < 5; round++) {
        await log.append(
          keys.flatMap((key) => [testEvent(key, round * 2), testEvent(key, round * 2 + 1)]),
        );
      }
      const received: LoggedEvent[] = [];
      await subscribe(log, {
        groupId: `g-${topic.name}`,
        topics: [topic.name],
        handle: async (b) => void received.push(...b),
      });
      await eventually(() => received.length === 40, '40 events');
      for (const key of keys) {
        const mine = received.filter((e) => e.event.key === key);
        expect(ns(mine)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(new Set(mine.map((e) => e.position.partition))).toEqual(
          new Set([partitionForKey(key, topic.partitions)]),
        );
      }
    });

    it('loses nothing when a consumer restarts, and does not redeliver what it committed', async () => {
      const { topic, catalog } = contractTopic();
      const group = `g-${topic.name}`;
      const log = await open(catalog, [topic]);
      await log.append(Array.from({ length: 10 }, (_, n) => testEvent(`k${n % 3}`, n)));
      const first: LoggedEvent[] = [];
      const a = await subscribe(log, {
        groupId: group,
        topics: [topic.name],
        handle: async (b) => void first.push(...b),
      });
      await eventually(() => first.length === 10, 'first 10 events');
      await a.stop();
      await log.append(Array.from({ length: 10 }, (_, n) => testEvent(`k${n % 3}`, 10 + n)));
      const restartedLog = await open(catalog, [topic]);
      const second: LoggedEvent[] = [];
      await subscribe(restartedLog, {
        groupId: group,
        topics: [topic.name],
        handle: async (b) => void second.push(...b),
      });
      await eventually(() => second.length >= 10, 'next 10 events');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(ns(second).sort((x, y) => x - y)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    });

    it('delivers uncommitted events again after a consumer crashes, and reports the crash', async () => {
      const { topic, catalog } = contractTopic(1);
      const group = `g-${topic.name}`;
      const log = await open(catalog, [topic]);
      await log.append(Array.from({ length: 6 }, (_, n) => testEvent('svc', n)));
      const crashes: Error[] = [];
      const failing = await subscribe(log, {
        groupId: group,
        topics: [topic.name],
        retry: { retries: 0, initialDelayMs: 10, maxDelayMs: 10 },
        onCrash: (error) => crashes.push(error),
        handle: async () => {
          throw new Error('projection database is down');
        },
      });
      await eventually(() => failing.state() === 'crashed', 'crashed state');
      expect(crashes).toHaveLength(1);
      expect(failing.crashError()?.message).toContain('projection database is down');

      const again: LoggedEvent[] = [];
      const restarted = await open(catalog, [topic]);
      await subscribe(restarted, {
        groupId: group,
        topics: [topic.name],
        handle: async (b) => void again.push(...b),
      });
      await eventually(() => again.length === 6, 'redelivery of 6 events');
      expect(ns(again)).toEqual([0, 1, 2, 3, 4, 5]);
    });

    it('splits partitions across the members of a consumer group', async () => {
      const { topic, catalog } = contractTopic(4);
      const group = `g-${topic.name}`;
      const logA = await open(catalog, [topic]);
      const logB = await open(catalog, [topic]);
      const gotA: LoggedEvent[] = [];
      const gotB: LoggedEvent[] = [];
      const a = await subscribe(logA, {
        groupId: group,
        topics: [topic.name],
        handle: async (b) => void gotA.push(...b),
      });
      await eventually(
        () => a.assignedPartitions().length === 4,
        'first member owns all partitions',
      );
      const b = await subscribe(logB, {
        groupId: group,
        topics: [topic.name],
        handle: async (x) => void gotB.push(...x),
      });
      await eventually(
        () =>
          a.assignedPartitions().length > 0 &&
          b.assignedPartitions().length > 0 &&
          a.assignedPartitions().length + b.assignedPartitions().length === 4,
        'rebalance across two members',
      );
      const all = [...a.assignedPartitions(), ...b.assignedPartitions()];
      expect(new Set(all).size).toBe(4);
      await logA.append(Array.from({ length: 40 }, (_, n) => testEvent(`service-${n}`, n)));
      await eventually(() => gotA.length + gotB.length === 40, 'all 40 events across the group');
      const partitionsOf = (events: LoggedEvent[]) =>
        new Set(events.map((e) => `${e.position.topic}:${e.position.partition}`));
      for (const slot of partitionsOf(gotA)) expect(a.assignedPartitions()).toContain(slot);
      for (const slot of partitionsOf(gotB)) expect(b.assignedPartitions()).toContain(slot);
      expect(gotA.length).toBeGreaterThan(0);
      expect(gotB.length).toBeGreaterThan(0);
    });

    it('replays a range of offsets exactly', async () => {
      const { topic, catalog } = contractTopic(1);
      const log = await open(catalog, [topic]);
      const appended = await log.append(Array.from({ length: 20 }, (_, n) => testEvent('svc', n)));
      expect(appended.map((e) => e.position.offset)).toEqual(
        Array.from({ length: 20 }, (_, n) => n),
      );
      const slice = await collect(log.readRange({ topic: topic.name, fromOffset: 5, toOffset: 9 }));
      expect(ns(slice)).toEqual([5, 6, 7, 8]);
      expect(slice.map((e) => e.event.id)).toEqual(appended.slice(5, 9).map((e) => e.event.id));
      const everything = await collect(log.readRange({ topic: topic.name }));
      expect(ns(everything)).toEqual(Array.from({ length: 20 }, (_, n) => n));
      expect(await log.endOffsets(topic.name)).toEqual([20]);
      // Headers travel with every event; the Kafka adapter reads them lazily, on first access.
      const [first] = slice;
      expect(first!.headers).toMatchObject({
        [KAFKA_HEADERS.eventType]: 'ContractTested',
        [KAFKA_HEADERS.eventVersion]: '1',
        [KAFKA_HEADERS.eventId]: first!.event.id,
        [KAFKA_HEADERS.correlationId]: first!.event.correlationId,
      });
      expect(JSON.parse(JSON.stringify(first))).toEqual({
        event: first!.event,
        position: first!.position,
        headers: first!.headers,
      });
    });

    it('refuses an event that fails its schema, naming the field, and writes nothing of the batch', async () => {
      const { topic, catalog } = contractTopic(1);
      const log = await open(catalog, [topic]);
      const bad = { ...testEvent('svc', 2), data: { n: 2, note: '' } };
      const attempt = log.append([testEvent('svc', 1), bad]);
      await expect(attempt).rejects.toBeInstanceOf(EventValidationError);
      await expect(log.append([bad])).rejects.toMatchObject({ field: 'data.note' });
      await expect(log.append([{ ...testEvent('svc', 3), actor: '' }])).rejects.toMatchObject({
        field: 'actor',
      });
      expect(await log.endOffsets(topic.name)).toEqual([0]);
    });

    it('moves a malformed message to the dead-letter topic and goes on', async () => {
      const { topic, catalog } = contractTopic(1);
      const log = await open(catalog, [topic]);
      await log.append([testEvent('svc', 1)]);
      await fixture().writeRaw(topic.name, 0, 'svc', '{"this is": "not an event"');
      await log.append([testEvent('svc', 2)]);
      const received: LoggedEvent[] = [];
      await subscribe(log, {
        groupId: `g-${topic.name}`,
        topics: [topic.name],
        handle: async (b) => void received.push(...b),
      });
      await eventually(() => received.length === 2, 'both valid events');
      expect(ns(received)).toEqual([1, 2]);
      let dead: Awaited<ReturnType<EventLogFixture['deadLetters']>> = [];
      await eventually(
        async () => (dead = await fixture().deadLetters(topic.name)).length === 1,
        'one dead letter',
      );
      expect(dead[0]!.value).toBe('{"this is": "not an event"');
      expect(dead[0]!.headers['dlq-reason']).toMatch(/not JSON/);
      expect(dead[0]!.headers['dlq-source']).toBe(`${topic.name}:0:1`);
    });

    it('dead-letters a malformed last message once when the handler keeps its own position', async () => {
      const { topic, catalog } = contractTopic(1);
      const log = await open(catalog, [topic]);
      await log.append([testEvent('svc', 1)]);
      await fixture().writeRaw(topic.name, 0, 'svc', 'garbage at the end');
      let checkpoint = 0;
      const received: LoggedEvent[] = [];
      await subscribe(log, {
        groupId: `g-${topic.name}`,
        topics: [topic.name],
        positionOf: async () => checkpoint,
        handle: async (batch) => {
          received.push(...batch);
          checkpoint = batch[batch.length - 1]!.position.offset + 1;
        },
      });
      await eventually(() => received.length === 1, 'the valid event');
      await eventually(
        async () => (await fixture().deadLetters(topic.name)).length === 1,
        'one dead letter',
      );
      // The consumer neither spins on the bad message nor dead-letters it again.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await fixture().deadLetters(topic.name)).toHaveLength(1);
      await log.append([testEvent('svc', 2)]);
      await eventually(() => received.length === 2, 'the next valid event');
    });

    it('reports a malformed message in a replayed range with its position, stopping or skipping', async () => {
      const { topic, catalog } = contractTopic(1);
      const log = await open(catalog, [topic]);
      await log.append([testEvent('svc', 1)]);
      await fixture().writeRaw(
        topic.name,
        0,
        'svc',
        JSON.stringify({ ...testEvent('svc', 9), id: 'x', occurredAt: new Date().toISOString() }),
      );
      await log.append([testEvent('svc', 2)]);
      await expect(collect(log.readRange({ topic: topic.name }))).rejects.toMatchObject({
        name: 'MalformedEventError',
        position: { topic: topic.name, partition: 0, offset: 1 },
      });
      const reported: MalformedEventError[] = [];
      const skipped = await collect(
        log.readRange({
          topic: topic.name,
          onMalformed: 'skip',
          reportMalformed: (e) => reported.push(e),
        }),
      );
      expect(ns(skipped)).toEqual([1, 2]);
      expect(reported.map((e) => e.position.offset)).toEqual([1]);
      expect(reported[0]!.reason).toContain('id');
    });
  });
}
