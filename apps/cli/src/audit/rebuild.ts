import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { EventLog, LoggedEvent } from '@rollgate/event-log';
import {
  dropSchema,
  openServiceDataSource,
  PLATFORM_ENTITIES,
  PlatformTables1764000000000,
  ProjectionCheckpointEntity,
  ProjectionRunner,
  type Projection,
} from '@rollgate/persistence';
import {
  readModelsOf,
  type RollgateConfig,
  type ServiceName,
  type ServicePersistence,
} from '@rollgate/platform';

/** One read-model row that differs between the live database and the rebuild. */
export interface RowDifference {
  service: string;
  table: string;
  /** Primary key of the row, e.g. `id=rel-1`. */
  key: string;
  kind: 'missing-in-live' | 'extra-in-live' | 'changed';
  /** For `changed`: each differing column, live value then rebuilt value. */
  columns: { column: string; live: unknown; rebuilt: unknown }[];
}

export interface ServiceRebuild {
  service: ServiceName;
  /** Why nothing was compared (no read models declared, no live database). */
  skipped?: string;
  tables: { table: string; rows: number }[];
  events: number;
  /** Malformed messages the rebuild left out, as the live consumers dead-letter them. */
  malformed: string[];
  differences: RowDifference[];
  /** Where the rebuilt read models are (kept unless verifying). */
  target: string;
}

export interface RebuildOptions {
  config: RollgateConfig;
  log: EventLog;
  services: Partial<Record<ServiceName, ServicePersistence>>;
  /** Compare with the live read models and drop the rebuild afterwards (unless keep). */
  verify: boolean;
  keep: boolean;
  progress: (line: string) => void;
  progressEvery?: number;
}

const BATCH = 500;

type Target = { dataSource: DataSource; where: string; drop: () => Promise<void> };

async function liveDataSource(
  config: RollgateConfig,
  service: ServiceName,
  persistence: ServicePersistence,
): Promise<DataSource | undefined> {
  const entities = [...PLATFORM_ENTITIES, ...persistence.entities];
  if (config.storage === 'sqlite') {
    const database = join(config.dataDir, `${service}.db`);
    if (!existsSync(database)) return undefined;
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database,
      entities,
      logging: false,
    });
    return dataSource.initialize();
  }
  const schema = `${config.schemaPrefix}${service}`;
  const probe = new DataSource({ type: 'postgres', url: config.databaseUrl, logging: false });
  await probe.initialize();
  const found = await probe
    .query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema])
    .finally(() => probe.destroy());
  if ((found as unknown[]).length === 0) return undefined;
  const dataSource = new DataSource({
    type: 'postgres',
    url: config.databaseUrl,
    schema,
    entities,
    logging: false,
    applicationName: `rollgate-audit-${service}`,
    extra: { max: 2, options: `-c search_path=${schema}` },
  });
  return dataSource.initialize();
}

/** A fresh, empty database for the rebuild: its own PostgreSQL schema or SQLite file. */
async function freshTarget(
  config: RollgateConfig,
  service: ServiceName,
  persistence: ServicePersistence,
): Promise<Target> {
  const common = {
    service,
    entities: [...PLATFORM_ENTITIES, ...persistence.entities],
    migrations: [PlatformTables1764000000000, ...persistence.migrations],
  };
  if (config.storage === 'sqlite') {
    const directory = mkdtempSync(join(tmpdir(), `rollgate-rebuild-${service}-`));
    const dataSource = await openServiceDataSource({
      ...common,
      storage: { kind: 'sqlite', directory },
    });
    return {
      dataSource,
      where: join(directory, `${service}.db`),
      drop: async () => rmSync(directory, { recursive: true, force: true }),
    };
  }
  const schema = `${config.schemaPrefix}${service}_rebuild_${randomUUID().slice(0, 8)}`;
  const dataSource = await openServiceDataSource({
    ...common,
    schema,
    storage: { kind: 'postgres', url: config.databaseUrl },
  });
  return {
    dataSource,
    where: `PostgreSQL schema ${schema}`,
    drop: () => dropSchema(config.databaseUrl, schema),
  };
}

type Rows = Record<string, unknown>[];
type Query = (sql: string) => Promise<Rows>;

/** The tables a rebuild compares: the service's read models and their checkpoints. */
interface ComparedTable {
  table: string;
  primary: string[];
  where?: { column: string; values: string[] };
}

function comparedTables(
  dataSource: DataSource,
  persistence: ServicePersistence,
  names: string[],
): ComparedTable[] {
  return [
    ...persistence.entities.map((entity) => dataSource.getMetadata(entity)),
    dataSource.getMetadata(ProjectionCheckpointEntity),
  ].map((metadata) => ({
    table: metadata.tableName,
    primary: metadata.primaryColumns.map((c) => c.databaseName),
    // Checkpoints of consumers this rebuild does not cover (runtime handlers) are not read models.
    ...(metadata.target === ProjectionCheckpointEntity
      ? { where: { column: 'projection', values: names } }
      : {}),
  }));
}

/**
 * The live read models and their checkpoints read in one transaction (a snapshot): the rebuild
 * stops at exactly these checkpoints, so a service that keeps projecting meanwhile is no difference.
 */
async function snapshotLive(live: DataSource, tables: ComparedTable[]): Promise<Map<string, Rows>> {
  const runner = live.createQueryRunner();
  await runner.connect();
  await runner.startTransaction(live.options.type === 'postgres' ? 'REPEATABLE READ' : undefined);
  try {
    const rows = new Map<string, Rows>();
    const query: Query = (sql) => runner.query(sql) as Promise<Rows>;
    for (const table of tables) rows.set(table.table, await tableRows(live, query, table));
    return rows;
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** Next offset per `topic:partition` of one projection, from the snapshot's checkpoint rows. */
function checkpointsOf(snapshot: Map<string, Rows>, projection: Projection): Map<string, number> {
  const table = 'projection_checkpoints';
  return new Map(
    (snapshot.get(table) ?? [])
      .filter((row) => row['projection'] === projection.name)
      .map((row) => [
        `${String(row['topic'])}:${String(row['partition'])}`,
        Number(row['next_offset']),
      ]),
  );
}

/**
 * Feeds one projection from the log into the target, partition batch by partition batch like the
 * live runner, up to the positions given (the live checkpoints when verifying, else the end).
 */
async function replayProjection(
  target: DataSource,
  log: EventLog,
  projection: Projection,
  stopAt: (topic: string, partition: number, end: number) => number,
  onEvent: () => void,
  malformed: string[],
): Promise<void> {
  const runner = new ProjectionRunner(target, log, projection);
  for (const topic of projection.topics) {
    const ends = await log.endOffsets(topic).catch(() => [] as number[]);
    const limits = ends.map((end, partition) => stopAt(topic, partition, end));
    if (limits.every((limit) => limit === 0)) continue;
    const pending = new Map<number, LoggedEvent[]>();
    const flush = async (partition: number) => {
      const batch = pending.get(partition);
      if (batch && batch.length > 0) await runner.applyBatch(batch);
      pending.set(partition, []);
    };
    for await (const logged of log.readRange({
      topic,
      onMalformed: 'skip',
      reportMalformed: (error) => malformed.push(error.message),
    })) {
      const { partition, offset } = logged.position;
      if (offset >= (limits[partition] ?? 0)) continue;
      const batch = pending.get(partition) ?? [];
      batch.push(logged);
      pending.set(partition, batch);
      onEvent();
      if (batch.length >= BATCH) await flush(partition);
    }
    for (const partition of pending.keys()) await flush(partition);
  }
}

const keyOf = (row: Record<string, unknown>, columns: string[]) =>
  columns.map((c) => `${c}=${String(row[c])}`).join(',');

function tableRows(dataSource: DataSource, query: Query, table: ComparedTable): Promise<Rows> {
  const q = (name: string) => dataSource.driver.escape(name);
  const filter = table.where
    ? ` WHERE ${q(table.where.column)} IN (${table.where.values.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')})`
    : '';
  return query(
    `SELECT * FROM ${q(table.table)}${filter} ORDER BY ${table.primary.map(q).join(', ')}`,
  );
}

/** Row by row, keyed by primary key; values compared as JSON so types print plainly. */
export function compareRows(
  service: string,
  table: string,
  primary: string[],
  live: Record<string, unknown>[],
  rebuilt: Record<string, unknown>[],
): RowDifference[] {
  const differences: RowDifference[] = [];
  const liveByKey = new Map(live.map((row) => [keyOf(row, primary), row]));
  const rebuiltByKey = new Map(rebuilt.map((row) => [keyOf(row, primary), row]));
  const keys = [...new Set([...liveByKey.keys(), ...rebuiltByKey.keys()])].sort();
  for (const key of keys) {
    const a = liveByKey.get(key);
    const b = rebuiltByKey.get(key);
    if (!a) {
      differences.push({ service, table, key, kind: 'missing-in-live', columns: [] });
      continue;
    }
    if (!b) {
      differences.push({ service, table, key, kind: 'extra-in-live', columns: [] });
      continue;
    }
    const columns = [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .filter((c) => JSON.stringify(a[c]) !== JSON.stringify(b[c]))
      .map((column) => ({ column, live: a[column], rebuilt: b[column] }));
    if (columns.length > 0) differences.push({ service, table, key, kind: 'changed', columns });
  }
  return differences;
}

/**
 * Rebuilds each service's read models from the log into a fresh schema (or SQLite file) with the
 * services' own event handlers (the same handler table the transport serves, built without an
 * HTTP app), and with `verify` compares them with the live ones row by row.
 */
export async function rebuildReadModels(options: RebuildOptions): Promise<ServiceRebuild[]> {
  const results: ServiceRebuild[] = [];
  const every = options.progressEvery ?? 50_000;
  for (const [name, persistence] of Object.entries(options.services)) {
    const service = name as ServiceName;
    const result: ServiceRebuild = {
      service,
      tables: [],
      events: 0,
      malformed: [],
      differences: [],
      target: '',
    };
    results.push(result);
    if (!persistence || persistence.readModels.length === 0) {
      result.skipped = 'declares no read models';
      continue;
    }
    const live = options.verify
      ? await liveDataSource(options.config, service, persistence)
      : undefined;
    if (options.verify && !live) {
      result.skipped = 'has no live database to compare with';
      continue;
    }
    const target = await freshTarget(options.config, service, persistence);
    result.target = target.where;
    const handlers = await readModelsOf(persistence.readModels);
    try {
      const tables = comparedTables(
        target.dataSource,
        persistence,
        handlers.readModels.map((r) => r.name),
      );
      const snapshot = live ? await snapshotLive(live, tables) : undefined;
      for (const projection of handlers.readModels) {
        const checkpoints = snapshot ? checkpointsOf(snapshot, projection) : undefined;
        await replayProjection(
          target.dataSource,
          options.log,
          projection,
          (topic, partition, end) =>
            checkpoints ? (checkpoints.get(`${topic}:${partition}`) ?? 0) : end,
          () => {
            if (++result.events % every === 0) {
              options.progress(`${service}/${projection.name}: ${result.events} events`);
            }
          },
          result.malformed,
        );
      }
      const rebuiltQuery: Query = (sql) => target.dataSource.query(sql) as Promise<Rows>;
      for (const table of tables) {
        const rebuilt = await tableRows(target.dataSource, rebuiltQuery, table);
        result.tables.push({ table: table.table, rows: rebuilt.length });
        if (!snapshot) continue;
        result.differences.push(
          ...compareRows(
            service,
            table.table,
            table.primary,
            snapshot.get(table.table) ?? [],
            rebuilt,
          ),
        );
      }
    } finally {
      await handlers.close();
      await target.dataSource.destroy();
      await live?.destroy();
      if (options.verify && !options.keep) await target.drop();
    }
    options.progress(
      `${service}: ${result.events} events into ${result.tables.map((t) => `${t.table} (${t.rows})`).join(', ')}`,
    );
  }
  return results;
}

const show = (value: unknown) => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
};

export function formatDifferences(differences: RowDifference[]): string {
  return differences
    .map((d) => {
      const where = `${d.service}.${d.table} [${d.key}]`;
      if (d.kind === 'missing-in-live')
        return `${where}: in the rebuild, missing from the live read model`;
      if (d.kind === 'extra-in-live') return `${where}: in the live read model, not in the log`;
      return [
        `${where}: differs`,
        ...d.columns.map(
          (c) =>
            `    ${c.column}: live ${show(c.live)}\n    ${' '.repeat(c.column.length)}  log  ${show(c.rebuilt)}`,
        ),
      ].join('\n');
    })
    .join('\n');
}
