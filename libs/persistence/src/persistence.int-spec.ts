import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Table, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  TOPICS,
  type EventEnvelope,
  type NewEvent,
  type ReleaseRequestedV2,
} from '@rollgate/contracts';
import { DomainError, type Aggregate } from '@rollgate/event-sourcing';
import { EmbeddedEventLog, type LoggedEvent } from '@rollgate/event-log';
import {
  ConcurrencyConflictError,
  dropSchema,
  EventStore,
  inTransaction,
  openServiceDataSource,
  OutboxRelay,
  PLATFORM_ENTITIES,
  PlatformTables1764000000000,
  ProjectionRunner,
  type Projection,
  type StorageConfig,
} from './index';

const databaseUrl =
  process.env['ROLLGATE_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'rollgate-persistence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class CountersTable1764000000001 implements MigrationInterface {
  name = 'CountersTable1764000000001';
  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'applied_events',
        columns: [
          { name: 'event_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'service', type: 'varchar', length: '100' },
        ],
      }),
    );
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('applied_events');
  }
}

/** One active release per service: the stream is the service. */
const serviceReleases: Aggregate<{ active: string | null }> = {
  name: 'service-releases',
  initial: () => ({ active: null }),
  evolve: (state, event) =>
    event.type === 'ReleaseRequested'
      ? { active: (event.data as ReleaseRequestedV2).releaseId }
      : state,
};

function requestRelease(service: string, releaseId: string): NewEvent<ReleaseRequestedV2> {
  return {
    type: 'ReleaseRequested',
    version: 2,
    actor: 'user:test',
    correlationId: releaseId,
    causationId: null,
    key: service,
    data: {
      releaseId,
      service,
      artifact: { name: service, digest: `sha256:${'b'.repeat(64)}` },
      strategy: 'canary',
    },
  };
}

function startRelease(store: EventStore, service: string, releaseId: string) {
  return store.execute(serviceReleases, `service:${service}`, (state) => {
    if (state.active) {
      throw new DomainError('conflict', `release ${state.active} is active on ${service}`, {
        active: state.active,
      });
    }
    return [requestRelease(service, releaseId)];
  });
}

const storages: [string, () => StorageConfig][] = [
  ['PostgreSQL', () => ({ kind: 'postgres', url: databaseUrl })],
  ['SQLite', () => ({ kind: 'sqlite', directory: dir })],
];

describe.each(storages)('persistence on %s', (label, storage) => {
  const schema = `test_${randomUUID().slice(0, 8)}`;
  let dataSource: DataSource;
  let store: EventStore;

  beforeAll(async () => {
    dataSource = await openServiceDataSource({
      service: 'persistence-test',
      schema,
      storage: storage(),
      entities: PLATFORM_ENTITIES,
      migrations: [PlatformTables1764000000000, CountersTable1764000000001],
    });
    store = new EventStore(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    if (label === 'PostgreSQL') await dropSchema(databaseUrl, schema);
  });

  it('runs the committed migrations into the service schema only', async () => {
    const migrations = (await dataSource.query('SELECT name FROM migrations ORDER BY id')) as {
      name: string;
    }[];
    expect(migrations.map((m) => m.name)).toEqual([
      'PlatformTables1764000000000',
      'CountersTable1764000000001',
    ]);
    if (label === 'PostgreSQL') {
      const tables = (await dataSource.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      )) as { table_name: string }[];
      expect(tables.map((t) => t.table_name)).toEqual([
        'applied_events',
        'event_store',
        'migrations',
        'outbox',
        'projection_checkpoints',
      ]);
    }
  });

  it('lets only one of two concurrent conflicting commands succeed', async () => {
    const service = `svc-${randomUUID().slice(0, 6)}`;
    const results = await Promise.allSettled([
      startRelease(store, service, 'rel-a'),
      startRelease(store, service, 'rel-b'),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(DomainError);
    expect((rejected[0]!.reason as DomainError).code).toBe('conflict');
    const stream = await store.load(`service:${service}`);
    expect(stream).toHaveLength(1);
    expect(stream[0]!.sequence).toBe(1);
  });

  it('applies every one of many concurrent commands on one stream, each on the state before it', async () => {
    const service = `busy-${randomUUID().slice(0, 6)}`;
    const counted = { name: 'count', initial: () => 0, evolve: (n: number) => n + 1 };
    // More racers than a command has retries: taking turns, none is refused.
    const seen = await Promise.all(
      Array.from({ length: 12 }, (_, i) => {
        let before = -1;
        return store
          .execute(counted, `service:${service}`, (n) => {
            before = n;
            return [requestRelease(service, `rel-${i}`)];
          })
          .then(() => before);
      }),
    );
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const stream = await store.load(`service:${service}`);
    expect(stream.map((e) => e.sequence)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('tells its listeners after a command commits events, and only then', async () => {
    const notified = new EventStore(dataSource);
    const commits: number[] = [];
    notified.afterCommit(() => commits.push(commits.length));
    const service = `kick-${randomUUID().slice(0, 6)}`;
    await startRelease(notified, service, 'rel-1');
    await expect(startRelease(notified, service, 'rel-2')).rejects.toBeInstanceOf(DomainError);
    await notified.execute(serviceReleases, `service:${service}`, () => []);
    expect(commits).toEqual([0]);
  });

  it('refuses a write at a stale expected version', async () => {
    const streamId = `service:stale-${randomUUID().slice(0, 6)}`;
    await inTransaction(dataSource, (m) =>
      store.appendInTransaction(m, streamId, 0, [requestRelease('stale', 'r1')]),
    );
    await expect(
      inTransaction(dataSource, (m) =>
        store.appendInTransaction(m, streamId, 0, [requestRelease('stale', 'r2')]),
      ),
    ).rejects.toBeInstanceOf(ConcurrencyConflictError);
  });

  it('appends at a version the caller folded up to, and refuses once the stream moved on', async () => {
    const streamId = `service:fenced-${randomUUID().slice(0, 6)}`;
    const notified = new EventStore(dataSource);
    const commits: number[] = [];
    notified.afterCommit(() => commits.push(commits.length));
    expect(await notified.appendAt(streamId, 0, [])).toEqual([]);
    const [first] = await notified.appendAt(streamId, 0, [requestRelease('fenced', 'r1')]);
    expect(first!.sequence).toBe(1);
    // Another writer appended at version 1 first: a decision made on version 1 is stale.
    await notified.appendAt(streamId, 1, [requestRelease('fenced', 'r2')]);
    await expect(
      notified.appendAt(streamId, 1, [requestRelease('fenced', 'r3')]),
    ).rejects.toBeInstanceOf(ConcurrencyConflictError);
    expect(commits).toEqual([0, 1]);
    // Reading on from a version returns only what came after it.
    expect((await store.load(streamId, undefined, 1)).map((e) => e.sequence)).toEqual([2]);
    expect((await store.load(streamId, undefined, 2)).map((e) => e.sequence)).toEqual([]);
    expect(await store.load(streamId)).toHaveLength(2);
  });

  it('publishes committed events through the outbox to the log, in order', async () => {
    const log = new EmbeddedEventLog({ file: join(dir, `${label}-outbox.db`) });
    await log.ensureTopics([TOPICS.releases]);
    const relay = new OutboxRelay(dataSource, log);
    await relay.flush();
    const service = `outbox-${randomUUID().slice(0, 6)}`;
    const [event] = await startRelease(store, service, 'rel-outbox');
    expect(await relay.pending()).toBe(1);
    expect(await relay.flush()).toBe(1);
    expect(await relay.pending()).toBe(0);
    const onLog: LoggedEvent[] = [];
    for await (const e of log.readRange({ topic: TOPICS.releases.name })) onLog.push(e);
    expect(onLog.map((e) => e.event).filter((e) => e.key === service)).toEqual([event]);
    await log.close();
  });

  describe('projections', () => {
    const topic = TOPICS.releases.name;
    let failOn: string | undefined;
    const projection: Projection = {
      name: `applied-${label}`,
      topics: [topic],
      apply: async (manager, event: EventEnvelope) => {
        if (event.id === failOn) throw new Error('boom');
        await manager.query(
          label === 'PostgreSQL'
            ? 'INSERT INTO applied_events (event_id, service) VALUES ($1, $2)'
            : 'INSERT INTO applied_events (event_id, service) VALUES (?, ?)',
          [event.id, event.key],
        );
      },
    };
    const logged = (offset: number, service: string): LoggedEvent => ({
      event: {
        ...requestRelease(service, `r${offset}`),
        id: randomUUID(),
        occurredAt: new Date().toISOString(),
      },
      position: { topic, partition: 0, offset },
      headers: {},
    });
    const count = async () =>
      Number(
        (
          (await dataSource.query('SELECT COUNT(*) AS n FROM applied_events')) as { n: string }[]
        )[0]!.n,
      );

    it('applies a batch and its checkpoint atomically, and never twice', async () => {
      const runner = new ProjectionRunner(dataSource, null as never, projection);
      const before = await count();
      const batch = [logged(0, 'a'), logged(1, 'b'), logged(2, 'c')];
      failOn = batch[2]!.event.id;
      await expect(runner.applyBatch(batch)).rejects.toThrow('boom');
      expect(await count()).toBe(before);
      expect(await runner.checkpoint(topic, 0)).toBeUndefined();
      failOn = undefined;
      await runner.applyBatch(batch);
      await runner.applyBatch(batch);
      await runner.applyBatch([...batch, logged(3, 'd')]);
      expect(await count()).toBe(before + 4);
      expect(await runner.checkpoint(topic, 0)).toBe(4);
      // Every partition of the read model at once, as lag sampling and read-your-writes read them.
      await runner.applyBatch([
        { ...logged(7, 'e'), position: { topic, partition: 2, offset: 7 } },
      ]);
      expect(await runner.checkpoints()).toEqual(
        new Map([
          [`${topic}:0`, 4],
          [`${topic}:2`, 8],
        ]),
      );
    });

    it('refuses to start when its checkpoint is past the end of the log (a reset log)', async () => {
      const log = new EmbeddedEventLog({ file: join(dir, `${label}-reset.db`) });
      await log.ensureTopics([TOPICS.releases]);
      const stale: Projection = { ...projection, name: `stale-${label}` };
      const runner = new ProjectionRunner(dataSource, log, stale);
      await runner.applyBatch([logged(41, 'x')]);
      await expect(runner.start()).rejects.toThrow(
        /ahead of the log: rollgate.releases\[0\] ends at 0 but the checkpoint is 42/,
      );
      await log.close();
    });

    it('resumes from its own checkpoint when fed by a real log', async () => {
      const log = new EmbeddedEventLog({
        file: join(dir, `${label}-projection.db`),
        pollIntervalMs: 20,
      });
      await log.ensureTopics([TOPICS.releases]);
      const live: Projection = { ...projection, name: `live-${label}` };
      const before = await count();
      await log.append([1, 2, 3].map((n) => requestRelease('orders', `live-${n}`)));
      const first = new ProjectionRunner(dataSource, log, live);
      await first.start();
      await waitFor(async () => (await count()) === before + 3);
      await first.stop();
      await log.append([4, 5].map((n) => requestRelease('orders', `live-${n}`)));
      const second = new ProjectionRunner(dataSource, log, live, {
        groupId: `other-group-${label}`,
      });
      await second.start();
      await waitFor(async () => (await count()) === before + 5);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await count()).toBe(before + 5);
      await second.stop();
      await log.close();
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}

describe('outbox relays of one service in two processes (PostgreSQL)', () => {
  const schema = `test_${randomUUID().slice(0, 8)}`;
  const open = () =>
    openServiceDataSource({
      service: 'persistence-test',
      schema,
      storage: { kind: 'postgres', url: databaseUrl },
      entities: PLATFORM_ENTITIES,
      migrations: [PlatformTables1764000000000],
    });
  afterAll(() => dropSchema(databaseUrl, schema));

  it('publishes each outbox row once when both relay at the same time', async () => {
    const first = await open();
    const second = await open();
    const store = new EventStore(first);
    const log = new EmbeddedEventLog({ file: join(dir, 'two-relays.db') });
    try {
      await log.ensureTopics([TOPICS.releases]);
      const relays = [new OutboxRelay(first, log), new OutboxRelay(second, log)];
      const services = Array.from({ length: 30 }, (_, i) => `two-${i}-${randomUUID().slice(0, 4)}`);
      await Promise.all(services.map((service) => startRelease(store, service, `rel-${service}`)));

      const published = await Promise.all(relays.map((relay) => relay.flush()));

      expect(published.sort((a, b) => a - b)).toEqual([0, 30]);
      const onLog: string[] = [];
      for await (const e of log.readRange({ topic: TOPICS.releases.name })) onLog.push(e.event.key);
      expect(onLog.sort()).toEqual([...services].sort());
    } finally {
      await log.close();
      await Promise.all([first.destroy(), second.destroy()]);
    }
  });
});
