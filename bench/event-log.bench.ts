/**
 * npm run bench:log — append and consume throughput of both event-log adapters, next to raw
 * kafkajs on the same broker in the same process. Median of RUNS runs of EVENTS events each.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { EmbeddedEventLog, KafkaEventLog, type EventLog } from '@rollgate/event-log';
import { contractTopic, testEvent } from '../libs/event-log/src/testing/contract-catalog';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const BATCH = 1_000;
const PARTITIONS = 6;
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'bench-raw', brokers, logLevel: logLevel.NOTHING });

type Measure = { append: number; consume: number };

const rate = (count: number, startedAt: bigint) =>
  count / (Number(process.hrtime.bigint() - startedAt) / 1e9);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function payloads(topicCatalog: ReturnType<typeof contractTopic>) {
  return Array.from({ length: EVENTS }, (_, n) =>
    topicCatalog.catalog.create(
      testEvent(`service-${n % 200}`, n, 'benchmark payload of a typical size'),
    ),
  );
}

async function rawKafka(): Promise<Measure> {
  const topic = `bench-raw-${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }],
  });
  await admin.disconnect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const messages = payloads(contractTopic(PARTITIONS)).map((e) => ({
    key: e.key,
    value: JSON.stringify(e),
  }));
  let started = process.hrtime.bigint();
  for (let i = 0; i < messages.length; i += BATCH) {
    await producer.send({ topic, acks: -1, messages: messages.slice(i, i + BATCH) });
  }
  const append = rate(EVENTS, started);
  await producer.disconnect();
  // Timed from connect, like the adapters' subscribe: both include joining the group.
  started = process.hrtime.bigint();
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) JSON.parse(message.value!.toString('utf8'));
        seen += batch.messages.length;
        if (seen >= EVENTS) resolve();
      },
    });
  });
  const consume = rate(EVENTS, started);
  await consumer.disconnect();
  return { append, consume };
}

async function adapter(
  open: (catalog: ReturnType<typeof contractTopic>['catalog']) => EventLog,
): Promise<Measure> {
  const topic = contractTopic(PARTITIONS);
  const log = open(topic.catalog);
  await log.ensureTopics([topic.topic]);
  const events = payloads(topic);
  let started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) await log.append(events.slice(i, i + BATCH));
  const append = rate(EVENTS, started);
  let seen = 0;
  started = process.hrtime.bigint();
  let subscription: Awaited<ReturnType<EventLog['subscribe']>> | undefined;
  await new Promise<void>((resolve) => {
    void log
      .subscribe({
        groupId: `bench-${topic.topic.name}`,
        topics: [topic.topic.name],
        handle: async (batch) => {
          seen += batch.length;
          if (seen >= EVENTS) resolve();
        },
      })
      .then((s) => (subscription = s));
  });
  const consume = rate(EVENTS, started);
  await subscription?.stop();
  await log.close();
  return { append, consume };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-bench-'));
  const results: Record<string, Measure[]> = {
    'raw kafkajs': [],
    KafkaEventLog: [],
    EmbeddedEventLog: [],
  };
  console.log(
    `event-log benchmark: ${EVENTS} events (~${JSON.stringify(payloads(contractTopic(1))[0]).length} B each), ${RUNS} runs, batches of ${BATCH}, ${PARTITIONS} partitions`,
  );
  for (let run = 1; run <= RUNS; run++) {
    results['raw kafkajs']!.push(await rawKafka());
    results['KafkaEventLog']!.push(
      await adapter(
        (catalog) =>
          new KafkaEventLog({ brokers, clientId: 'bench', catalog, logLevel: logLevel.NOTHING }),
      ),
    );
    results['EmbeddedEventLog']!.push(
      await adapter(
        (catalog) =>
          new EmbeddedEventLog({ file: join(dir, `run-${run}.db`), catalog, pollIntervalMs: 10 }),
      ),
    );
    process.stderr.write(`run ${run}/${RUNS} done\n`);
  }
  rmSync(dir, { recursive: true, force: true });
  const raw = {
    append: median(results['raw kafkajs']!.map((m) => m.append)),
    consume: median(results['raw kafkajs']!.map((m) => m.consume)),
  };
  const rows = Object.entries(results).map(([name, measures]) => {
    const append = median(measures.map((m) => m.append));
    const consume = median(measures.map((m) => m.consume));
    return {
      adapter: name,
      'append ev/s': Math.round(append),
      'vs raw append': `${((append / raw.append) * 100).toFixed(0)}%`,
      'consume ev/s': Math.round(consume),
      'vs raw consume': `${((consume / raw.consume) * 100).toFixed(0)}%`,
    };
  });
  console.table(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
