import { resolve } from 'node:path';
import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';

// The one place that reads process.env: everything else receives a typed RollgateConfig.

export const SERVICE_NAMES = ['orchestrator', 'router', 'analysis', 'flags', 'migrations'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = {
  orchestrator: 7001,
  router: 7002,
  analysis: 7003,
  flags: 7004,
  migrations: 7005,
};

export const DEFAULT_TOKENS_FILE = '.rollgate/tokens.json';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = '.rollgate/data';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** embedded: one process, embedded log, SQLite files. production: Kafka and PostgreSQL. */
export type RollgateMode = 'embedded' | 'production';
export type EventLogKind = 'embedded' | 'kafka';
export type StorageKind = 'sqlite' | 'postgres';
export type DataPlaneKind = 'embedded' | 'haproxy';
export type FleetKind = 'local' | 'agents' | 'simulated';

export interface RollgateConfig {
  /** Interface the HTTP servers bind to. */
  host: string;
  /** Absolute path of the JSON token file (SHA-256 hashes only). */
  tokensFile: string;
  /** Port each service listens on. */
  ports: Readonly<Record<ServiceName, number>>;
  /** Base URL clients (the CLI) use to reach each service. */
  serviceUrls: Readonly<Record<ServiceName, string>>;
  /** Bearer token for clients (ROLLGATE_TOKEN), if set. */
  token: string | undefined;
  mode: RollgateMode;
  /** Which event log: follows the mode unless ROLLGATE_EVENT_LOG says otherwise. */
  eventLog: EventLogKind;
  /** Where read models live: follows the mode unless ROLLGATE_STORAGE says otherwise. */
  storage: StorageKind;
  /** Absolute folder for the embedded log and SQLite files. */
  dataDir: string;
  kafkaBrokers: string[];
  databaseUrl: string;
  /** PostgreSQL schema of a service is `<prefix><service>`; default `rollgate_`. */
  schemaPrefix: string;
  /**
   * Databases migration plans may target (ROLLGATE_MIGRATION_DATABASES, comma separated); unset:
   * only the database of ROLLGATE_DATABASE_URL (read it with migrationDatabases()).
   */
  migrationDatabases?: readonly string[];
  /** What routes traffic: the embedded Node proxy or HAProxy. */
  dataPlane: DataPlaneKind;
  /**
   * Services HAProxy gets a frontend for (its config is written at start), with their ports;
   * port 0 takes a free one. From ROLLGATE_HAPROXY_SERVICES, e.g. `checkout:8081,orders:8082`.
   */
  haproxyServices: readonly { service: string; port: number }[];
  /** off: the orchestrator records releases but does not drive them (API tests, read replicas). */
  reconciler: 'on' | 'off';
  /**
   * Who runs instances (ROLLGATE_FLEET): `local` child processes of the orchestrator (default),
   * `agents` on each host (`rollgate agent`), or `simulated` in memory, for scale tests only.
   */
  fleet: FleetKind;
  /** JSON file mapping digests to sample-service behaviour for the local fleet (drills, demos). */
  fleetProfilesFile: string | undefined;
  /**
   * What the API compatibility gate does with a release that breaks a live build, unless the
   * request says otherwise: `refuse` (409) or `hold` (it waits). ROLLGATE_API_COMPAT_POLICY.
   */
  apiCompatPolicy: 'refuse' | 'hold';
  /** Where analysis reads the golden signals, and how it judges them (README: canary analysis). */
  analysis: AnalysisConfig;
  /**
   * Longest wait of a write for its own read models, and of a read for a consistency token
   * (ROLLGATE_CONSISTENCY_WAIT_MS, default 10000). See docs/adr/0008-read-your-writes.md.
   */
  consistencyWaitMs: number;
  /** Events a consumer may be behind the log end before /health says degraded (ROLLGATE_HEALTH_MAX_LAG, default 1000). */
  healthMaxLag: number;
}

export type MetricSourceKind = 'embedded' | 'prometheus';

export interface AnalysisConfig {
  /** embedded: the router's data-plane counters; prometheus: PromQL over HTTP. */
  metricSource: MetricSourceKind;
  /** Base URL of Prometheus (ROLLGATE_PROMETHEUS_URL); required for the prometheus source. */
  prometheusUrl: string | undefined;
  /** NODATA intervals in a row that end a run as FAIL (ROLLGATE_ANALYSIS_MAX_NODATA, default 3). */
  maxNodataIntervals: number;
  /** Requests per group a comparison needs (ROLLGATE_ANALYSIS_MIN_REQUESTS, default 200). */
  minimumRequests: number;
  /** Longest window as a multiple of the plan (ROLLGATE_ANALYSIS_MAX_WINDOW_FACTOR, 1-3, default 3). */
  maxWindowFactor: number;
  /** Low-traffic fallback bounds on the canary (ROLLGATE_ANALYSIS_FALLBACK_MAX_ERROR_RATE, default 0.05). */
  fallbackMaxErrorRate: number;
  /** (ROLLGATE_ANALYSIS_FALLBACK_MAX_P99_MS, default 1000). */
  fallbackMaxP99Ms: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown once with every invalid key, so a misconfigured process fails fast and says why. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const portVar = (service: ServiceName): string => `ROLLGATE_${service.toUpperCase()}_PORT`;
export const urlVar = (service: ServiceName): string => `ROLLGATE_${service.toUpperCase()}_URL`;

/** Pure parser: tests pass their own env; production goes through loadConfig(). */
export function parseConfig(env: Env): RollgateConfig {
  const problems: string[] = [];
  const text = (key: string, fallback: string | undefined): string | undefined => {
    const value = env[key];
    if (value === undefined) return fallback;
    if (value.trim() === '') {
      problems.push(`${key}: must not be empty`);
      return fallback;
    }
    return value.trim();
  };

  const host = text('ROLLGATE_HOST', DEFAULT_HOST) as string;
  if (/\s/.test(host)) problems.push(`ROLLGATE_HOST: must not contain spaces, got '${host}'`);

  const tokensFile = resolve(text('ROLLGATE_TOKENS_FILE', DEFAULT_TOKENS_FILE) as string);

  const ports = {} as Record<ServiceName, number>;
  const invalidPorts = new Set<ServiceName>();
  for (const service of SERVICE_NAMES) {
    const key = portVar(service);
    const raw = text(key, undefined);
    const port = raw === undefined ? DEFAULT_PORTS[service] : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`${key}: must be an integer between 1 and 65535, got '${raw}'`);
      invalidPorts.add(service);
    }
    ports[service] = port;
  }

  const serviceUrls = {} as Record<ServiceName, string>;
  for (const service of SERVICE_NAMES) {
    const key = urlVar(service);
    const url = text(key, `http://127.0.0.1:${ports[service]}`) as string;
    // A default derived from an invalid port was already reported under the port's key.
    if (env[key] === undefined && invalidPorts.has(service)) continue;
    if (!isHttpUrl(url)) problems.push(`${key}: must be an http(s) URL, got '${url}'`);
    serviceUrls[service] = url.replace(/\/+$/, '');
  }

  const token = text('ROLLGATE_TOKEN', undefined);

  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const value = text(key, fallback) as string;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`${key}: must be one of ${allowed.join(', ')}, got '${value}'`);
    return fallback;
  };
  const mode = oneOf<RollgateMode>('ROLLGATE_MODE', ['embedded', 'production'], 'embedded');
  const eventLog = oneOf<EventLogKind>(
    'ROLLGATE_EVENT_LOG',
    ['embedded', 'kafka'],
    mode === 'production' ? 'kafka' : 'embedded',
  );
  const storage = oneOf<StorageKind>(
    'ROLLGATE_STORAGE',
    ['sqlite', 'postgres'],
    mode === 'production' ? 'postgres' : 'sqlite',
  );
  const dataDir = resolve(text('ROLLGATE_DATA_DIR', DEFAULT_DATA_DIR) as string);
  const kafkaBrokers = (text('KAFKA_BROKERS', DEFAULT_KAFKA_BROKERS) as string)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  for (const broker of kafkaBrokers) {
    if (!/^[^\s:]+:\d+$/.test(broker)) problems.push(`KAFKA_BROKERS: '${broker}' is not host:port`);
  }
  const databaseUrl = text('ROLLGATE_DATABASE_URL', DEFAULT_DATABASE_URL) as string;
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`ROLLGATE_DATABASE_URL: must be a postgres:// URL, got '${databaseUrl}'`);
  }

  const schemaPrefix = text('ROLLGATE_SCHEMA_PREFIX', 'rollgate_') as string;
  if (!/^[a-z_][a-z0-9_]*$/.test(schemaPrefix)) {
    problems.push(
      `ROLLGATE_SCHEMA_PREFIX: must be lowercase letters, digits and _, got '${schemaPrefix}'`,
    );
  }

  const migrationDatabases = text('ROLLGATE_MIGRATION_DATABASES', undefined)
    ?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (migrationDatabases?.length === 0)
    problems.push('ROLLGATE_MIGRATION_DATABASES: must list at least one database');
  for (const name of migrationDatabases ?? [])
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name))
      problems.push(`ROLLGATE_MIGRATION_DATABASES: '${name}' is not a database name (a-z, 0-9, _)`);

  const dataPlane = oneOf<DataPlaneKind>(
    'ROLLGATE_DATA_PLANE',
    ['embedded', 'haproxy'],
    'embedded',
  );
  const haproxyServices = parseHaproxyServices(text('ROLLGATE_HAPROXY_SERVICES', '') as string);
  problems.push(...haproxyServices.problems);
  if (dataPlane === 'haproxy' && haproxyServices.services.length === 0) {
    problems.push(
      'ROLLGATE_HAPROXY_SERVICES: the haproxy data plane needs the services it routes, e.g. checkout:8081,orders:8082',
    );
  }
  const reconciler = oneOf<'on' | 'off'>('ROLLGATE_RECONCILER', ['on', 'off'], 'on');
  const apiCompatPolicy = oneOf<'refuse' | 'hold'>(
    'ROLLGATE_API_COMPAT_POLICY',
    ['refuse', 'hold'],
    'refuse',
  );
  const fleet = oneOf<FleetKind>('ROLLGATE_FLEET', ['local', 'agents', 'simulated'], 'local');
  const profiles = text('ROLLGATE_FLEET_PROFILES', undefined);
  const fleetProfilesFile = profiles === undefined ? undefined : resolve(profiles);

  const analysis = parseAnalysisConfig(text, oneOf, problems);
  const number = numberReader(text, problems);
  const consistencyWaitMs = number('ROLLGATE_CONSISTENCY_WAIT_MS', 10_000, 0, 120_000, true);
  const healthMaxLag = number('ROLLGATE_HEALTH_MAX_LAG', 1000, 1, 1e12, true);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    analysis,
    consistencyWaitMs,
    healthMaxLag,
    dataPlane,
    haproxyServices: haproxyServices.services,
    reconciler,
    apiCompatPolicy,
    fleet,
    fleetProfilesFile,
    schemaPrefix,
    ...(migrationDatabases ? { migrationDatabases } : {}),
    host,
    tokensFile,
    ports,
    serviceUrls,
    token,
    mode,
    eventLog,
    storage,
    dataDir,
    kafkaBrokers,
    databaseUrl,
  };
}

type TextReader = (key: string, fallback: string | undefined) => string | undefined;

/** Reads a bounded number setting; a bad value is a problem and the default stands. */
function numberReader(text: TextReader, problems: string[]) {
  return (key: string, fallback: number, min: number, max: number, integer = false) => {
    const raw = text(key, undefined);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      problems.push(
        `${key}: must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got '${raw}'`,
      );
      return fallback;
    }
    return value;
  };
}

function parseAnalysisConfig(
  text: TextReader,
  oneOf: <T extends string>(key: string, allowed: readonly T[], fallback: T) => T,
  problems: string[],
): AnalysisConfig {
  const number = numberReader(text, problems);
  const metricSource = oneOf<MetricSourceKind>(
    'ROLLGATE_METRIC_SOURCE',
    ['embedded', 'prometheus'],
    'embedded',
  );
  const prometheusUrl = text('ROLLGATE_PROMETHEUS_URL', undefined)?.replace(/\/+$/, '');
  if (prometheusUrl !== undefined && !isHttpUrl(prometheusUrl)) {
    problems.push(`ROLLGATE_PROMETHEUS_URL: must be an http(s) URL, got '${prometheusUrl}'`);
  }
  if (metricSource === 'prometheus' && prometheusUrl === undefined) {
    problems.push(
      'ROLLGATE_PROMETHEUS_URL: the prometheus metric source needs the server, e.g. http://127.0.0.1:9090',
    );
  }
  return {
    metricSource,
    prometheusUrl,
    maxNodataIntervals: number('ROLLGATE_ANALYSIS_MAX_NODATA', 3, 1, 100, true),
    minimumRequests: number('ROLLGATE_ANALYSIS_MIN_REQUESTS', 200, 1, 1_000_000, true),
    maxWindowFactor: number('ROLLGATE_ANALYSIS_MAX_WINDOW_FACTOR', 3, 1, 3),
    fallbackMaxErrorRate: number('ROLLGATE_ANALYSIS_FALLBACK_MAX_ERROR_RATE', 0.05, 0, 1),
    fallbackMaxP99Ms: number('ROLLGATE_ANALYSIS_FALLBACK_MAX_P99_MS', 1000, 1, 600_000),
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

let loaded: RollgateConfig | undefined;

/** Reads the environment once per process; later calls return the same object. */
export function loadConfig(): RollgateConfig {
  loaded ??= parseConfig(process.env);
  return loaded;
}

const serviceName = new RegExp(SERVICE_NAME_PATTERN);

/** `name:port` items separated by commas; a missing port means 0 (a free port). */
function parseHaproxyServices(value: string): {
  services: { service: string; port: number }[];
  problems: string[];
} {
  const services: { service: string; port: number }[] = [];
  const problems: string[] = [];
  for (const item of value
    .split(',')
    .map((i) => i.trim())
    .filter(Boolean)) {
    const [service = '', portText = '0', ...rest] = item.split(':');
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!serviceName.test(service) || !(port <= 65535) || rest.length > 0) {
      problems.push(
        `ROLLGATE_HAPROXY_SERVICES: '${item}' is not service[:port] (a service name, port 0-65535)`,
      );
    } else if (services.some((s) => s.service === service)) {
      problems.push(`ROLLGATE_HAPROXY_SERVICES: '${service}' is listed twice`);
    } else {
      services.push({ service, port });
    }
  }
  return { services, problems };
}

/** The databases migration plans may target: the configured list, or the service's own database. */
export function migrationDatabases(config: RollgateConfig): readonly string[] {
  return (
    config.migrationDatabases ?? [
      decodeURIComponent(new URL(config.databaseUrl).pathname.slice(1)) || 'postgres',
    ]
  );
}

/** A database URL safe to print: the password, if any, masked. */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** Where the event log and the read models live, in words for banners (no secrets). */
export function whereIs(
  config: RollgateConfig,
  showPath: (path: string) => string = (path) => path,
): { eventLog: string; readModels: string } {
  return {
    eventLog:
      config.eventLog === 'kafka'
        ? `Kafka at ${config.kafkaBrokers.join(',')}`
        : `${showPath(config.dataDir)}/events.db`,
    readModels:
      config.storage === 'postgres'
        ? `PostgreSQL ${withoutPassword(config.databaseUrl)}, schemas ${config.schemaPrefix}<service>`
        : `SQLite files in ${showPath(config.dataDir)}`,
  };
}

/**
 * A consumer group of this installation: `<schema prefix><service>-<name>`. The schema prefix
 * names the installation, so two installations sharing a Kafka cluster never share a group.
 */
export function consumerGroupId(
  config: Pick<RollgateConfig, 'schemaPrefix'>,
  service: ServiceName,
  name: string,
): string {
  return `${config.schemaPrefix}${service}-${name}`;
}
