/**
 * npm run bench:replay — replay throughput (read + fold) of synthetic release histories on both
 * event-log adapters, next to raw kafkajs consumption of the same Kafka topic in the same run.
 *
 * For each size (BENCH_SIZES, default 100000,1000000) the histories are appended once per adapter
 * (release, routing and analysis events of canary releases, ~50 events each, on one 6-partition
 * topic). Each run then reads the whole topic and folds every release with the audit fold
 * (libs/audit releaseSubject). Medians of BENCH_RUNS runs (default 5).
 *
 * The raw baseline does the same work with kafkajs alone: a fresh consumer group reads the same
 * topic, JSON.parse of each value, the same fold. A raw row without the fold is shown for
 * reference. Goal (issue 16): KafkaEventLog replay of 1M events >= 80% of the raw baseline.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { releaseHistory, releaseSubject, type ReleaseAuditState } from '@rollgate/audit';
import {
  EventCatalog,
  PUBLISHED_EVENTS,
  UPCASTERS,
  type EventEnvelope,
  type TopicDefinition,
} from '@rollgate/contracts';
import { EmbeddedEventLog, KafkaEventLog, type EventLog } from '@rollgate/event-log';

const SIZES = (process.env['BENCH_SIZES'] ?? '100000,1000000').split(',').map(Number);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const PARTITIONS = 6;
const BATCH = 2_000;
const GOAL = { size: 1_000_000, ratio: 0.8 };
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'bench-replay-raw', brokers, logLevel: logLevel.NOTHING });

const rate = (count: number, startedAt: bigint) =>
  count / (Number(process.hrtime.bigint() - startedAt) / 1e9);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Every published event, on one bench topic: the histories of many releases side by side. */
function benchTopic(): { topic: TopicDefinition; catalog: EventCatalog } {
  const topic: TopicDefinition = {
    name: `bench-replay-${randomUUID().slice(0, 8)}`,
    partitions: PARTITIONS,
    description: 'replay benchmark',
    keyDescription: 'service name',
  };
  return {
    topic,
    catalog: new EventCatalog(
      PUBLISHED_EVENTS.map((d) => ({ ...d, topic })),
      UPCASTERS,
    ),
  };
}

/** Canary histories, release after release, until `size` events; yields append-sized chunks. */
function* histories(size: number): Generator<EventEnvelope[]> {
  let produced = 0;
  let chunk: EventEnvelope[] = [];
  for (let n = 0; produced < size; n++) {
    const events = releaseHistory({
      releaseId: `bench-${n}`,
      service: `svc-${n % 200}`,
      start: Date.parse('2026-01-01T00:00:00.000Z') + n * 100_000,
      intervalsPerStep: 12,
      fail: n % 10 === 9,
    }).slice(0, size - produced);
    produced += events.length;
    chunk.push(...events);
    if (chunk.length >= BATCH) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}

async function fill(log: EventLog, topic: TopicDefinition, size: number): Promise<void> {
  await log.ensureTopics([topic]);
  for (const chunk of histories(size)) await log.append(chunk);
}

/** The audit fold of every release, event by event; checks at the end that the releases finished. */
function releaseFold(): { add(event: EventEnvelope): void; check(): void } {
  const states = new Map<string, ReleaseAuditState>();
  const subjects = new Map<string, ReturnType<typeof releaseSubject>>();
  return {
    add(event) {
      const id = event.correlationId;
      let subject = subjects.get(id);
      if (!subject) subjects.set(id, (subject = releaseSubject(id)));
      states.set(id, subject.evolve(states.get(id) ?? subject.initial(), event));
    },
    check() {
      const done = [...states.values()].filter(
        (s) => s.release && s.release.phase !== 'progressing',
      );
      if (done.length < states.size - 1) throw new Error('the fold did not finish the releases');
    },
  };
}

/** Read + fold: every event of the topic through the audit fold of its release. */
async function replay(log: EventLog, topic: string, size: number): Promise<number> {
  const fold = releaseFold();
  let seen = 0;
  const started = process.hrtime.bigint();
  for await (const { event } of log.readRange({ topic })) {
    fold.add(event);
    seen++;
  }
  const result = rate(seen, started);
  if (seen !== size) throw new Error(`replay read ${seen} of ${size} events`);
  fold.check();
  return result;
}

/**
 * Raw kafkajs on the same topic: a fresh group from the beginning, JSON.parse of each value and,
 * unless `withFold` is false, the same fold, in offset order per partition.
 */
async function rawKafka(topic: string, size: number, withFold: boolean): Promise<number> {
  const fold = releaseFold();
  const started = process.hrtime.bigint();
  const consumer = kafka.consumer({ groupId: `bench-raw-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const event = JSON.parse(message.value!.toString('utf8')) as EventEnvelope;
          if (withFold) fold.add(event);
        }
        seen += batch.messages.length;
        if (seen >= size) resolve();
      },
    });
  });
  const result = rate(seen, started);
  await consumer.disconnect();
  if (withFold) fold.check();
  return result;
}

const RAW = 'raw kafkajs (read + JSON.parse + fold)';
const RAW_NO_FOLD = 'raw kafkajs (read + JSON.parse, reference)';
const KAFKA = 'KafkaEventLog replay (read + fold)';
const percent = (value: number) => `${(value * 100).toFixed(0)}%`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rollgate-bench-replay-'));
  const rows: Record<string, string | number>[] = [];
  const verdicts: string[] = [];
  console.log(
    `replay benchmark: sizes ${SIZES.join(', ')} events, ${RUNS} runs each, ${PARTITIONS} partitions, canary histories of ~50 events`,
  );
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (const size of SIZES) {
      const kafkaTopic = benchTopic();
      const kafkaLog = new KafkaEventLog({
        brokers,
        clientId: 'bench-replay',
        catalog: kafkaTopic.catalog,
        logLevel: logLevel.NOTHING,
      });
      const embeddedTopic = benchTopic();
      const embeddedLog = new EmbeddedEventLog({
        file: join(dir, `replay-${size}.db`),
        catalog: embeddedTopic.catalog,
      });
      let started = process.hrtime.bigint();
      await fill(kafkaLog, kafkaTopic.topic, size);
      process.stderr.write(
        `${size}: appended to Kafka at ${Math.round(rate(size, started))} ev/s\n`,
      );
      started = process.hrtime.bigint();
      await fill(embeddedLog, embeddedTopic.topic, size);
      process.stderr.write(
        `${size}: appended to the embedded log at ${Math.round(rate(size, started))} ev/s\n`,
      );
      const measured: Record<string, number[]> = {
        [RAW]: [],
        [RAW_NO_FOLD]: [],
        [KAFKA]: [],
        'EmbeddedEventLog replay (read + fold)': [],
      };
      for (let run = 1; run <= RUNS; run++) {
        measured[RAW]!.push(await rawKafka(kafkaTopic.topic.name, size, true));
        measured[RAW_NO_FOLD]!.push(await rawKafka(kafkaTopic.topic.name, size, false));
        measured[KAFKA]!.push(await replay(kafkaLog, kafkaTopic.topic.name, size));
        measured['EmbeddedEventLog replay (read + fold)']!.push(
          await replay(embeddedLog, embeddedTopic.topic.name, size),
        );
        process.stderr.write(`${size}: run ${run}/${RUNS} done\n`);
      }
      const raw = median(measured[RAW]!);
      const rawNoFold = median(measured[RAW_NO_FOLD]!);
      for (const [name, values] of Object.entries(measured)) {
        const value = median(values);
        rows.push({
          events: size,
          what: name,
          'median ev/s': Math.round(value),
          'vs raw (read + fold)': percent(value / raw),
          'vs raw without fold': percent(value / rawNoFold),
          runs: values.length,
        });
      }
      const ratio = median(measured[KAFKA]!) / raw;
      verdicts.push(
        `${size} events: KafkaEventLog replay ${percent(ratio)} of raw` +
          (size === GOAL.size
            ? ` (goal >= ${percent(GOAL.ratio)}), goal met: ${ratio >= GOAL.ratio ? 'yes' : 'no'}`
            : ` (the goal applies to ${GOAL.size} events)`),
      );
      await kafkaLog.close();
      await embeddedLog.close();
      await admin.deleteTopics({ topics: [kafkaTopic.topic.name] }).catch(() => undefined);
    }
  } finally {
    await admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`medians of ${RUNS} runs; ratios against raw kafkajs (read + JSON.parse + fold)`);
  console.table(rows);
  for (const line of verdicts) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
