/**
 * npm run bench:log — append and consume throughput of both event-log adapters, next to raw
 * kafkajs on the same broker in the same process. Median of RUNS runs of EVENTS events each.
 *
 * The raw baseline writes the same records the adapter writes (key, the JSON of the event, the
 * event-type/-version/-id and correlation-id headers), serializing inside the timed loop, with
 * the same producer (idempotent, acks=all) and consumer settings; it reads them back with
 * JSON.parse of every value. A second raw row without headers is shown for reference only.
 * Goals (issue 16): KafkaEventLog >= 85% of raw append and >= 80% of raw consume.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { eventHeaders, type EventEnvelope } from '@rollgate/contracts';
import { EmbeddedEventLog, KafkaEventLog, type EventLog } from '@rollgate/event-log';
import { contractTopic, testEvent } from '../libs/event-log/src/testing/contract-catalog';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 200_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const BATCH = 1_000;
const PARTITIONS = 6;
const GOALS = { append: 0.85, consume: 0.8 };
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

/** What a kafkajs user writes for one event: the same record the adapter writes, or value only. */
function rawMessage(withHeaders: boolean): (event: EventEnvelope) => Message {
  if (!withHeaders) return (e) => ({ key: e.key, value: JSON.stringify(e) });
  return (e) => ({ key: e.key, value: JSON.stringify(e), headers: eventHeaders(e) });
}

async function rawKafka(withHeaders: boolean): Promise<Measure> {
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
  const events = payloads(contractTopic(PARTITIONS));
  const toMessage = rawMessage(withHeaders);
  let started = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += BATCH) {
    await producer.send({ topic, acks: -1, messages: events.slice(i, i + BATCH).map(toMessage) });
  }
  const append = rate(EVENTS, started);
  await producer.disconnect();
  // Timed from connect, like the adapters' subscribe: both include joining the group.
  started = process.hrtime.bigint();
  // The adapter's consumer settings (fetch wait, partitions handled concurrently).
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      partitionsConsumedConcurrently: 3,
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

const RAW = 'raw kafkajs (same records)';
const RAW_VALUE_ONLY = 'raw kafkajs, value only (reference)';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-bench-'));
  const results: Record<string, Measure[]> = {
    [RAW]: [],
    [RAW_VALUE_ONLY]: [],
    KafkaEventLog: [],
    EmbeddedEventLog: [],
  };
  console.log(
    `event-log benchmark: ${EVENTS} events (~${JSON.stringify(payloads(contractTopic(1))[0]).length} B each), ${RUNS} runs, batches of ${BATCH}, ${PARTITIONS} partitions`,
  );
  for (let run = 1; run <= RUNS; run++) {
    results[RAW]!.push(await rawKafka(true));
    results[RAW_VALUE_ONLY]!.push(await rawKafka(false));
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
  const medians = (name: string): Measure => ({
    append: median(results[name]!.map((m) => m.append)),
    consume: median(results[name]!.map((m) => m.consume)),
  });
  const raw = medians(RAW);
  const percent = (value: number) => `${(value * 100).toFixed(0)}%`;
  const rows = Object.keys(results).map((name) => {
    const { append, consume } = medians(name);
    return {
      adapter: name,
      'append ev/s': Math.round(append),
      'vs raw append': percent(append / raw.append),
      'consume ev/s': Math.round(consume),
      'vs raw consume': percent(consume / raw.consume),
    };
  });
  console.log(`medians of ${RUNS} runs; ratios against the raw kafkajs run with the same records`);
  console.table(rows);
  const kafka = medians('KafkaEventLog');
  const append = kafka.append / raw.append;
  const consume = kafka.consume / raw.consume;
  console.log(
    `KafkaEventLog append: ${percent(append)} of raw (goal >= ${percent(GOALS.append)}), goal met: ${append >= GOALS.append ? 'yes' : 'no'}`,
  );
  console.log(
    `KafkaEventLog consume: ${percent(consume)} of raw (goal >= ${percent(GOALS.consume)}), goal met: ${consume >= GOALS.consume ? 'yes' : 'no'}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
