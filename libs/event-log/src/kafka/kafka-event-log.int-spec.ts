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
