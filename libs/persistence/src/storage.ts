import { DataSource, type DataSourceOptions, type MixedList, type EntitySchema } from 'typeorm';
import { join } from 'node:path';
import { ensurePrivateDirectory, ensurePrivateFile } from '@rollgate/event-log';

/** Where read models and the write side live: PostgreSQL in production, SQLite files embedded. */
export type StorageConfig =
  { kind: 'postgres'; url: string } | { kind: 'sqlite'; directory: string };

export interface ServiceDataSourceOptions {
  /** Service name; PostgreSQL schema `rollgate_<service>`, SQLite file `<service>.db`. */
  service: string;
  storage: StorageConfig;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Overrides the schema name (rebuilds into a fresh schema, tests). */
  schema?: string;
}

export function schemaNameOf(service: string): string {
  return `rollgate_${service.replace(/-/g, '_')}`;
}

/**
 * One DataSource per service, in a schema (or file) of its own: services never share tables.
 * Schema changes go through committed migrations only; `synchronize` is never used.
 */
export async function openServiceDataSource(
  options: ServiceDataSourceOptions,
): Promise<DataSource> {
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;
  let config: DataSourceOptions;
  if (options.storage.kind === 'postgres') {
    const schema = options.schema ?? schemaNameOf(options.service);
    await ensureSchema(options.storage.url, schema);
    config = {
      ...common,
      type: 'postgres',
      url: options.storage.url,
      schema,
      migrationsTableName: 'migrations',
      applicationName: `rollgate-${options.service}`,
      // Raw SQL in projections resolves to the service's own schema.
      extra: { max: 10, options: `-c search_path=${schema}` },
    };
  } else {
    ensurePrivateDirectory(options.storage.directory);
    const database = join(options.storage.directory, `${options.schema ?? options.service}.db`);
    ensurePrivateFile(database);
    config = {
      ...common,
      type: 'better-sqlite3',
      database,
      enableWAL: true,
    };
  }
  const dataSource = new DataSource(config);
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

async function ensureSchema(url: string, schema: string): Promise<void> {
  const bootstrap = new DataSource({ type: 'postgres', url, logging: false });
  await bootstrap.initialize();
  try {
    await bootstrap.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } finally {
    await bootstrap.destroy();
  }
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const bootstrap = new DataSource({ type: 'postgres', url, logging: false });
  await bootstrap.initialize();
  try {
    await bootstrap.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await bootstrap.destroy();
  }
}
