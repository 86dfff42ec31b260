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
