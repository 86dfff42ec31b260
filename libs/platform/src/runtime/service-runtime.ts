import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ALL_TOPICS } from '@rollgate/contracts';
import { EmbeddedEventLog, KafkaEventLog, type EventLog, type LogSink } from '@rollgate/event-log';
import {
  EventStore,
  openServiceDataSource,
  OutboxRelay,
  PLATFORM_ENTITIES,
  PlatformTables1764000000000,
  ProjectionRunner,
  ReadYourWrites,
  type Projection,
} from '@rollgate/persistence';
import type { RollgateConfig, ServiceName } from '../config/config';

/** Nest injection token of the ServiceRuntime. */
export const SERVICE_RUNTIME = Symbol('SERVICE_RUNTIME');

/** What a service brings to its runtime: its tables, its migrations and its read models. */
export interface ServicePersistence {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  projections: Projection[];
}

/** The I/O edges of one service: its log client, its own database, its writer and readers. */
export interface ServiceRuntime {
  service: ServiceName;
  config: RollgateConfig;
  log: EventLog;
  dataSource: DataSource;
  eventStore: EventStore;
  relay: OutboxRelay;
  projections: ProjectionRunner[];
  /** Tokens of this service's writes, and whether its read models have caught up with one. */
  readYourWrites: ReadYourWrites;
  /**
   * Adds a consumer that needs objects made at start-up (a data plane, a fleet driver). Call it
   * in onModuleInit: RuntimeModule starts every projection when the application boots.
   */
  addProjection(projection: Projection): void;
  /** Closes what this runtime opened (a shared log is closed by whoever opened it). */
  close(): Promise<void>;
}

/** kafkajs and the Kafka adapter log through Nest's logger, at its levels. */
function kafkaLogger(): LogSink {
  const logger = new Logger('kafka');
  return {
    error: (m) => logger.error(m),
    warn: (m) => logger.warn(m),
    info: (m) => logger.log(m),
    debug: (m) => logger.debug(m),
  };
}

/** The log the configuration asks for; one per process in embedded mode, shared by the five services. */
export function openEventLog(config: RollgateConfig, clientId: string): EventLog {
  return config.eventLog === 'kafka'
    ? new KafkaEventLog({ brokers: config.kafkaBrokers, clientId, logger: kafkaLogger() })
    : new EmbeddedEventLog({ file: join(config.dataDir, 'events.db') });
}

export async function openServiceRuntime(
  config: RollgateConfig,
  service: ServiceName,
  persistence: ServicePersistence,
  sharedLog?: EventLog,
): Promise<ServiceRuntime> {
  const log = sharedLog ?? openEventLog(config, `rollgate-${service}`);
  await log.ensureTopics(ALL_TOPICS);
  const dataSource = await openServiceDataSource({
    service,
    schema: config.storage === 'postgres' ? `${config.schemaPrefix}${service}` : service,
    storage:
      config.storage === 'postgres'
        ? { kind: 'postgres', url: config.databaseUrl }
        : { kind: 'sqlite', directory: config.dataDir },
    entities: [...PLATFORM_ENTITIES, ...persistence.entities],
    migrations: [PlatformTables1764000000000, ...persistence.migrations],
  });
  const logger = new Logger(`${service}-outbox`);
  const relay = new OutboxRelay(dataSource, log, {
    onError: (error) =>
      logger.error(`publishing to the event log failed (will retry): ${String(error)}`),
  });
  const runnerOf = (projection: Projection) =>
    new ProjectionRunner(dataSource, log, projection, {
      groupId: `rollgate-${service}-${projection.name}`,
    });
  const projections = persistence.projections.map(runnerOf);
  const eventStore = new EventStore(dataSource);
  eventStore.afterCommit(() => relay.kick());
  return {
    service,
    config,
    log,
    dataSource,
    eventStore,
    relay,
    projections,
    readYourWrites: new ReadYourWrites(dataSource, log, () => projections),
    addProjection(projection) {
      projections.push(runnerOf(projection));
    },
    async close() {
      await Promise.all(projections.map((p) => p.stop()));
      await relay.stop();
      await dataSource.destroy();
      if (!sharedLog) await log.close();
    },
  };
}
