import { Kafka, logLevel } from 'kafkajs';
import { describeEventLogContract } from '../testing/event-log.contract';
import { headersToStrings, KafkaEventLog } from './kafka-event-log';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const raw = new Kafka({ clientId: 'contract-raw', brokers, logLevel: logLevel.NOTHING });
const rawProducer = raw.producer({ allowAutoTopicCreation: false });

beforeAll(async () => {
  await rawProducer.connect().catch((error: unknown) => {
    throw new Error(
      `Kafka is not reachable at ${brokers.join(',')} (npm run kafka:start): ${String(error)}`,
    );
  });
});
afterAll(async () => rawProducer.disconnect());

describeEventLogContract('Kafka (real broker)', () => ({
  open: async (catalog) =>
    new KafkaEventLog({ brokers, clientId: 'contract', catalog, logLevel: logLevel.NOTHING }),
  writeRaw: async (topic, partition, key, value) => {
    await rawProducer.send({ topic, acks: -1, messages: [{ key, value, partition }] });
  },
  deadLetters: async (topic) => {
    const admin = raw.admin();
    await admin.connect();
    const [offsets] = await admin.fetchTopicOffsets(`${topic}.dlq`);
    await admin.disconnect();
    const high = Number(offsets?.high ?? 0);
    if (high === 0) return [];
    const consumer = raw.consumer({
      groupId: `dlq-reader-${topic}-${Date.now()}`,
      maxWaitTimeInMs: 100,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
    const out: { value: string; headers: Record<string, string> }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          out.push({
            value: message.value?.toString('utf8') ?? '',
            headers: headersToStrings(message.headers),
          });
          if (out.length >= high) resolve();
        },
      });
    });
    await consumer.disconnect();
    return out;
  },
}));

describe('Kafka subscription stopped while it reads its stored positions', () => {
  it('stops cleanly: no seek on a consumer that is gone, nothing unhandled', async () => {
    const topic = `stop-race-${Date.now()}`;
    const log = new KafkaEventLog({ brokers, clientId: 'stop-race', logLevel: logLevel.NOTHING });
    await log.ensureTopics([
      { name: topic, partitions: 2, description: 'stop race', keyDescription: 'any' },
    ]);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let asked!: () => void;
    const positionAsked = new Promise<void>((resolve) => (asked = resolve));
    let release!: () => void;
    const positionRead = new Promise<void>((resolve) => (release = resolve));
    try {
      const subscription = await log.subscribe({
        groupId: `stop-race-${Date.now()}`,
        topics: [topic],
        handle: () => Promise.resolve(),
        // The read model's checkpoint query, still running when the service shuts down.
        positionOf: async () => {
          asked();
          await positionRead;
          return 0;
        },
      });
      await positionAsked;
      await subscription.stop();
      release();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(subscription.state()).toBe('stopped');
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await log.close();
    }
  }, 30_000);
});

describe('Kafka members that only hold partitions (work ownership), with the sticky assignment', () => {
  it('a third member takes one partition from each of the two others, who keep the rest; nothing is read', async () => {
    const topic = `hold-${Date.now()}`;
    const groupId = `hold-${Date.now()}`;
    const logs: KafkaEventLog[] = [];
    const handled: string[] = [];
    const assignedCalls = new Map<string, number>();
    const member = async (name: string) => {
      const log = new KafkaEventLog({
        brokers,
        clientId: `hold-${name}`,
        logLevel: logLevel.NOTHING,
      });
      logs.push(log);
      await log.ensureTopics([
        { name: topic, partitions: 6, description: 'hold', keyDescription: 'any' },
      ]);
      return log.subscribe({
        groupId,
        topics: [topic],
        fromBeginning: true,
        holdOnly: true,
        handle: async () => {
          handled.push(name);
        },
        onAssigned: () => assignedCalls.set(name, (assignedCalls.get(name) ?? 0) + 1),
      });
    };
    const until = async (check: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    try {
      const a = await member('a');
      const b = await member('b');
      await until(
        () => a.assignedPartitions().length === 3 && b.assignedPartitions().length === 3,
        'a and b to hold 3 partitions each',
      );
      expect(a.rebalancing()).toBe(false);
      const heldByA = a.assignedPartitions();
      const heldByB = b.assignedPartitions();
      await rawProducer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: 'x' })),
      });
      let seenRebalancing = false;
      const watch = setInterval(() => (seenRebalancing ||= a.rebalancing()), 5);
      const c = await member('c');
      await until(
        () => [a, b, c].every((m) => m.assignedPartitions().length === 2),
        'three members to hold 2 partitions each',
      );
      clearInterval(watch);
      // Between the revocation and the new assignment a member knows it is rebalancing.
      expect(seenRebalancing).toBe(true);
      expect(a.rebalancing()).toBe(false);
      expect(a.assignedPartitions().filter((p) => heldByA.includes(p))).toHaveLength(2);
      expect(b.assignedPartitions().filter((p) => heldByB.includes(p))).toHaveLength(2);
      expect(new Set([a, b, c].flatMap((m) => m.assignedPartitions())).size).toBe(6);
      expect(assignedCalls.get('a')).toBeGreaterThanOrEqual(2);
      // Holding is not reading: the 12 records were never handed to anyone.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(handled).toEqual([]);
    } finally {
      for (const log of logs) await log.close();
    }
  }, 90_000);
});
