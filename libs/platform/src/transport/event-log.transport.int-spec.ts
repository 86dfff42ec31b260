import Database from 'better-sqlite3';
import { Controller, Global, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseHistory } from '@rollgate/audit';
import { KAFKA_HEADERS, TOPICS, type EventEnvelope } from '@rollgate/contracts';
import { EmbeddedEventLog, partitionForKey, type LoggedEvent } from '@rollgate/event-log';
import { dropSchema } from '@rollgate/persistence';
import { parseConfig, type RollgateConfig } from '../config/config';
import { HealthChecks } from '../health/health-checks';
import { RuntimeModule } from '../runtime/runtime.module';
import { openServiceRuntime, type ServiceRuntime } from '../runtime/service-runtime';
import { EventLogContext } from './event-log.context';
import { startEventLogTransport } from './event-log.transport';
import { readModelEvents } from './event-patterns';

const tag = randomUUID().slice(0, 8);
const READ_MODEL = `transport-probe-${tag}`;
const HANDLED = ['ReleaseRequested', 'ReleaseStepStarted', 'ReleaseSucceeded'];
const topic = TOPICS.releases.name;
const databaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');

interface Seen {
  id: string;
  key: string;
  type: string;
  sequence: number;
  position: LoggedEvent['position'];
  headerType: string | undefined;
  readModel: string;
}

/** What the handlers saw and did, across both "processes" of a test. */
const seen: Seen[] = [];
const attempts = new Map<string, number>();
/** Event id: how many more attempts fail after writing their row. */
const faults = new Map<string, number>();

/** The shared topic carries other suites' events too: only this run's services count. */
const mine = (key: string) => key.endsWith(tag);

@Controller()
class ProbeHandlers {
  @EventPattern(readModelEvents(READ_MODEL, ...HANDLED))
  async release(@Payload() event: EventEnvelope, @Ctx() context: EventLogContext): Promise<void> {
    if (!mine(event.key)) return;
    attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
    // Written before the fault: a failed attempt must leave no row behind.
    await context
      .getManager()
      .query(
        context.getManager().connection.options.type === 'postgres'
          ? 'INSERT INTO probe_rows (event_id, service) VALUES ($1, $2)'
          : 'INSERT INTO probe_rows (event_id, service) VALUES (?, ?)',
        [event.id, event.key],
      );
    const left = faults.get(event.id) ?? 0;
    if (left > 0) {
      faults.set(event.id, left - 1);
      throw new Error(`fault injected at ${event.id}`);
    }
    seen.push({
      id: event.id,
      key: event.key,
      type: event.type,
      sequence: event.sequence ?? 0,
      position: context.getPosition(),
      headerType: context.getHeaders()[KAFKA_HEADERS.eventType],
      readModel: context.getReadModel(),
    });
  }
}

@Global()
@Module({ providers: [HealthChecks], exports: [HealthChecks] })
class HealthLike {}

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let clock = Date.now();
/** The release-topic events of a fresh release of a service of this run. */
function history(service: string): EventEnvelope[] {
  clock += 10_000_000;
  return releaseHistory({ releaseId: `rel-${service}`, service, start: clock }).filter((e) =>
    e.type.startsWith('Release'),
  );
}

/** Interleaves several keys' events, each key's in its own order. */
function interleave(lists: EventEnvelope[][]): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (let i = 0; i < Math.max(...lists.map((l) => l.length)); i++) {
    for (const list of lists) if (list[i]) out.push(list[i]!);
  }
  return out;
}

interface Adapter {
  label: string;
  env: Record<string, string>;
  writeRaw(runtime: ServiceRuntime, partition: number, value: string): Promise<void>;
  deadLetters(
    config: RollgateConfig,
  ): Promise<{ value: string; headers: Record<string, string> }[]>;
  cleanUp(): Promise<void>;
}

const prefix = `t${tag}_`;
const kafka = new Kafka({ clientId: `transport-spec-${tag}`, brokers, logLevel: logLevel.NOTHING });

const adapters: Adapter[] = [
  {
    label: 'embedded log + SQLite',
    env: { ROLLGATE_MODE: 'embedded' },
    writeRaw: async (runtime, partition, value) => {
      (runtime.log as EmbeddedEventLog).writeRaw(topic, partition, `poison-${tag}`, value, {});
    },
    deadLetters: async (config) => {
      const db = new Database(join(config.dataDir, 'events.db'), { readonly: true });
      try {
        const rows = db
          .prepare('SELECT value, headers FROM messages WHERE topic = ? ORDER BY offset')
          .all(`${topic}.dlq`) as { value: string; headers: string }[];
        return rows.map((r) => ({
          value: r.value,
          headers: JSON.parse(r.headers) as Record<string, string>,
        }));
      } finally {
        db.close();
      }
    },
    cleanUp: async () => undefined,
  },
  {
    label: 'Kafka + PostgreSQL',
    env: { ROLLGATE_MODE: 'production', ROLLGATE_SCHEMA_PREFIX: prefix },
    writeRaw: async (_runtime, partition, value) => {
      const producer = kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: [{ key: `poison-${tag}`, value, partition }],
        });
      } finally {
        await producer.disconnect();
      }
    },
    deadLetters: async () => {
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(`${topic}.dlq`).finally(() => admin.disconnect());
      // Partitions still to read to their end offset.
      const pending = new Map(
        ends.filter((o) => Number(o.high) > 0).map((o) => [o.partition, Number(o.high)]),
      );
      const out: { value: string; headers: Record<string, string> }[] = [];
      if (pending.size === 0) return out;
      const consumer = kafka.consumer({
        groupId: `dlq-reader-${randomUUID()}`,
        maxWaitTimeInMs: 100,
      });
      await consumer.connect();
      await consumer.subscribe({ topic: `${topic}.dlq`, fromBeginning: true });
      await new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            out.push({
              value: message.value?.toString('utf8') ?? '',
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
              ),
            });
            if (Number(message.offset) + 1 >= (pending.get(partition) ?? 0))
              pending.delete(partition);
            if (pending.size === 0) resolve();
          },
        });
      });
      await consumer.disconnect();
      return out;
    },
    cleanUp: () => dropSchema(databaseUrl, `${prefix}orchestrator`),
  },
];

describe.each(adapters)('event-log transport on $label', (adapter) => {
  const config = parseConfig({
    ...adapter.env,
    ROLLGATE_DATA_DIR: mkdtempSync(join(tmpdir(), 'rollgate-transport-')),
  });
  let runtime: ServiceRuntime;
  let app: INestApplication;

  /** One service process: its runtime, an app with the handlers, the transport connected. */
  async function startProcess(): Promise<void> {
    runtime = await openServiceRuntime(config, 'orchestrator', {
      entities: [],
      migrations: [],
      readModels: [],
    });
    await runtime.dataSource.query(
      'CREATE TABLE IF NOT EXISTS probe_rows (event_id varchar(64) PRIMARY KEY, service varchar(200) NOT NULL)',
    );
    @Module({ imports: [HealthLike, RuntimeModule.forRoot(runtime)], controllers: [ProbeHandlers] })
    class ProbeApp {}
    app = await NestFactory.create(ProbeApp, { logger: false });
    await app.init();
    await startEventLogTransport(app, runtime);
  }

  const rowsOf = async (ids: string[]): Promise<string[]> => {
    const rows = (await runtime.dataSource.query('SELECT event_id FROM probe_rows')) as {
      event_id: string;
    }[];
    return rows.map((r) => r.event_id).filter((id) => ids.includes(id));
  };
  const seenIds = () => new Set(seen.map((s) => s.id));
  const handledOf = (events: EventEnvelope[]) => events.filter((e) => HANDLED.includes(e.type));
  const appended: EventEnvelope[] = [];
  const append = async (events: EventEnvelope[]) => {
    appended.push(...events);
    return runtime.log.append(events);
  };

  beforeAll(async () => {
    seen.length = 0;
    attempts.clear();
    faults.clear();
    await startProcess();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await adapter.cleanUp();
  });

  it('delivers each handled type by @EventPattern, in order per key, with its position and headers in @Ctx()', async () => {
    const services = [1, 2, 3].map((n) => `order-${n}-${tag}`);
    const lists = services.map(history);
    await append(interleave(lists));
    const expected = handledOf(lists.flat());
    await eventually(() => expected.every((e) => seenIds().has(e.id)), 'every handled event');

    for (const [i, service] of services.entries()) {
      const mineSeen = seen.filter((s) => s.key === service);
      expect(mineSeen.map((s) => s.id)).toEqual(handledOf(lists[i]!).map((e) => e.id));
      expect(new Set(mineSeen.map((s) => s.position.partition))).toEqual(
        new Set([partitionForKey(service, TOPICS.releases.partitions)]),
      );
    }
    // Only the types it has handlers for; each with the log's own view of it.
    expect(new Set(seen.map((s) => s.type))).toEqual(new Set(HANDLED));
    for (const s of seen) {
      expect(s).toMatchObject({ headerType: s.type, readModel: READ_MODEL });
      expect(s.position.topic).toBe(topic);
    }
    const runner = runtime.projections.find((p) => p.name === READ_MODEL)!;
    expect(runner.topics).toEqual([topic]);
    expect(runtime.consumers().map((c) => c.groupId)).toEqual([
      `${config.schemaPrefix}orchestrator-${READ_MODEL}`,
    ]);
  }, 120_000);

  it('retries a failing handler; rows of the failed attempts roll back with them', async () => {
    const events = history(`retry-${tag}`);
    const flaky = handledOf(events)[1]!;
    faults.set(flaky.id, 2);
    await append(events);
    await eventually(
      () => handledOf(events).every((e) => seenIds().has(e.id)),
      'the flaky event applied',
    );
    expect(attempts.get(flaky.id)).toBe(3);
    expect(seen.filter((s) => s.id === flaky.id)).toHaveLength(1);
    // The handler has run; its transaction commits just after.
    await eventually(async () => (await rowsOf([flaky.id])).length === 1, 'the flaky row');
    expect(await rowsOf([flaky.id])).toEqual([flaky.id]);
  }, 120_000);

  it('dead-letters a malformed message with its reason and source, and goes on', async () => {
    const service = `poison-${tag}`;
    const partition = partitionForKey(service, TOPICS.releases.partitions);
    const [before, ...after] = history(service);
    await append([before!]);
    const offset = (await runtime.log.endOffsets(topic))[partition]!;
    const poison = `{"poison": "${tag}"`;
    await adapter.writeRaw(runtime, partition, poison);
    await append(after);
    await eventually(
      () => handledOf([before!, ...after]).every((e) => seenIds().has(e.id)),
      'the events around the poison',
    );
    let dead: { value: string; headers: Record<string, string> }[] = [];
    await eventually(
      async () =>
        (dead = (await adapter.deadLetters(config)).filter((d) => d.value === poison)).length > 0,
      'the dead letter',
    );
    expect(dead[0]!.headers['dlq-reason']).toMatch(/not JSON/);
    expect(dead[0]!.headers['dlq-source']).toBe(`${topic}:${partition}:${offset}`);
  }, 120_000);

  it('when a handler gives up, its rows and checkpoint roll back together; a restart applies nothing twice', async () => {
    const events = handledOf(history(`crash-${tag}`));
    const poison = events[2]!;
    faults.set(poison.id, Number.POSITIVE_INFINITY);
    const [logged] = (await append(events)).filter((l) => l.event.id === poison.id);
    const consumer = () => runtime.consumers()[0]!;
    await eventually(() => consumer().state() === 'crashed', 'the consumer to give up');
    expect(consumer().crashError()?.message).toBe(`fault injected at ${poison.id}`);
    expect(attempts.get(poison.id)).toBeGreaterThan(1);
    expect(await rowsOf([poison.id])).toEqual([]);
    const runner = runtime.projections.find((p) => p.name === READ_MODEL)!;
    const { partition, offset } = logged!.position;
    // No checkpoint at all is fine too: the whole batch rolled back, the poison among it.
    expect((await runner.checkpoint(topic, partition)) ?? 0).toBeLessThanOrEqual(offset);

    const committed = await rowsOf(appended.map((e) => e.id));
    await app.close();
    faults.clear();
    attempts.clear();
    await startProcess();
    await eventually(
      async () => (await rowsOf(events.map((e) => e.id))).length === events.length,
      'the rest applied after the restart',
    );
    // Every committed event stayed applied once; everything else was applied exactly once now.
    for (const id of committed) expect(attempts.get(id)).toBeUndefined();
    for (const e of events.filter((e) => !committed.includes(e.id))) {
      expect(attempts.get(e.id)).toBe(1);
    }
    expect(consumer().state()).toBe('running');
  }, 180_000);
});
