import { Logger, type Type } from '@nestjs/common';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ALL_TOPICS } from '@rollgate/contracts';
import {
  EmbeddedEventLog,
  KafkaEventLog,
  type EventLog,
  type LogSink,
  type Subscription,
} from '@rollgate/event-log';
import {
  ConsumerLagTracker,
  EventStore,
  openServiceDataSource,
  OutboxRelay,
  PLATFORM_ENTITIES,
  PlatformTables1764000000000,
  ProjectionRunner,
  ReadYourWrites,
  type Projection,
} from '@rollgate/persistence';
import { consumerGroupId, type RollgateConfig, type ServiceName } from '../config/config';
import { EventLogClient } from '../transport/event-log.client';

/** Nest injection token of the ServiceRuntime. */
export const SERVICE_RUNTIME = Symbol('SERVICE_RUNTIME');

/** What a service brings to its runtime: its tables, its migrations and its read models. */
export interface ServicePersistence {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: Function[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: Function[];
  /**
   * Its read models: event handlers (`@EventPattern`) with no dependencies, whose tables are
   * rebuilt from the log alone (`rollgate audit rebuild`). Its modules declare them too, with
   * the handlers that need providers (a data plane, a metric source).
   */
  readModels: Type[];
}

/** The I/O edges of one service: its log client, its own database, its writer and readers. */
export interface ServiceRuntime {
  service: ServiceName;
  config: RollgateConfig;
  log: EventLog;
  dataSource: DataSource;
  eventStore: EventStore;
  relay: OutboxRelay;
  /** Every consumer of this service, by read model: names, topics and checkpoints. */
  projections: ProjectionRunner[];
  /** Tokens of this service's writes, and whether its read models have caught up with one. */
  readYourWrites: ReadYourWrites;
  /** How far each consumer is behind the log, sampled. */
  lag: ConsumerLagTracker;
  /** The partitions each loop's owners group gives this process now, by group (/health). */
  claims: Map<string, () => string[]>;
  /** Adds a consumer; the event-log transport adds one per read model it serves. */
  addProjection(projection: Projection): void;
  /** Starts the consumers not started yet, then samples their lag once. */
  startConsumers(): Promise<void>;
  /** The subscriptions of the consumers started so far. */
  consumers(): Subscription[];
  stopConsumers(): Promise<void>;
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
  const relay = new OutboxRelay(dataSource, new EventLogClient(log), {
    onError: (error) =>
      logger.error(`publishing to the event log failed (will retry): ${String(error)}`),
  });
  const runnerOf = (projection: Projection) =>
    new ProjectionRunner(dataSource, log, projection, {
      groupId: consumerGroupId(config, service, projection.name),
    });
  const projections: ProjectionRunner[] = [];
  const started = new Map<ProjectionRunner, Subscription>();
  const lag = new ConsumerLagTracker(log, () => projections);
  const stopConsumers = () => Promise.all(projections.map((p) => p.stop())).then(() => undefined);
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
    lag,
    claims: new Map(),
    addProjection(projection) {
      if (projections.some((p) => p.name === projection.name)) {
        throw new Error(`${service} has two read models named ${projection.name}`);
      }
      projections.push(runnerOf(projection));
    },
    async startConsumers() {
      const pending = projections.filter((p) => !started.has(p));
      const subscriptions = await Promise.all(pending.map((p) => p.start()));
      pending.forEach((runner, i) => started.set(runner, subscriptions[i]!));
      // Taken before the service answers, so /health never says ok while it is far behind; a
      // failed sample is retried (and logged) by RuntimeModule's periodic sampling.
      await lag.sample().catch(() => undefined);
    },
    consumers: () => [...started.values()],
    stopConsumers,
    async close() {
      await stopConsumers();
      await relay.stop();
      await dataSource.destroy();
      if (!sharedLog) await log.close();
    },
  };
}
