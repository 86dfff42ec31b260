import { resolve } from 'node:path';
import { ConfigError, parseConfig, whereIs } from './config';

describe('parseConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    expect(parseConfig({})).toEqual({
      host: '127.0.0.1',
      tokensFile: resolve('.rollgate/tokens.json'),
      ports: { orchestrator: 7001, router: 7002, analysis: 7003, flags: 7004, migrations: 7005 },
      serviceUrls: {
        orchestrator: 'http://127.0.0.1:7001',
        router: 'http://127.0.0.1:7002',
        analysis: 'http://127.0.0.1:7003',
        flags: 'http://127.0.0.1:7004',
        migrations: 'http://127.0.0.1:7005',
      },
      token: undefined,
      mode: 'embedded',
      eventLog: 'embedded',
      storage: 'sqlite',
      dataDir: resolve('.rollgate/data'),
      kafkaBrokers: ['127.0.0.1:9092'],
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      schemaPrefix: 'rollgate_',
      dataPlane: 'embedded',
      haproxyServices: [],
      reconciler: 'on',
      apiCompatPolicy: 'refuse',
      fleet: 'local',
      fleetProfilesFile: undefined,
      consistencyWaitMs: 10_000,
      healthMaxLag: 1000,
      analysis: {
        metricSource: 'embedded',
        prometheusUrl: undefined,
        maxNodataIntervals: 3,
        minimumRequests: 200,
        maxWindowFactor: 3,
        fallbackMaxErrorRate: 0.05,
        fallbackMaxP99Ms: 1000,
      },
    });
  });

  it('reads the consistency wait and the health lag limit, refusing bad values by name', () => {
    expect(
      parseConfig({ ROLLGATE_CONSISTENCY_WAIT_MS: '2500', ROLLGATE_HEALTH_MAX_LAG: '50' }),
    ).toMatchObject({ consistencyWaitMs: 2500, healthMaxLag: 50 });
    expect(() =>
      parseConfig({ ROLLGATE_CONSISTENCY_WAIT_MS: '-1', ROLLGATE_HEALTH_MAX_LAG: 'many' }),
    ).toThrow(/ROLLGATE_CONSISTENCY_WAIT_MS: must be an integer[\s\S]*ROLLGATE_HEALTH_MAX_LAG/);
  });

  it('describes where data lives without printing a database password', () => {
    const where = whereIs(
      parseConfig({
        ROLLGATE_MODE: 'production',
        ROLLGATE_DATABASE_URL: 'postgres://app:s3cret@db:5432/rollgate',
        KAFKA_BROKERS: 'k1:9092,k2:9092',
      }),
    );
    expect(where).toEqual({
      eventLog: 'Kafka at k1:9092,k2:9092',
      readModels: 'PostgreSQL postgres://app:***@db:5432/rollgate, schemas rollgate_<service>',
    });
    expect(whereIs(parseConfig({ ROLLGATE_DATA_DIR: '/srv/rg' }))).toEqual({
      eventLog: '/srv/rg/events.db',
      readModels: 'SQLite files in /srv/rg',
    });
  });

  it('reads the analysis settings and names each invalid one', () => {
    expect(
      parseConfig({
        ROLLGATE_METRIC_SOURCE: 'prometheus',
        ROLLGATE_PROMETHEUS_URL: 'http://127.0.0.1:9090/',
        ROLLGATE_ANALYSIS_MAX_NODATA: '5',
      }).analysis,
    ).toMatchObject({
      metricSource: 'prometheus',
      prometheusUrl: 'http://127.0.0.1:9090',
      maxNodataIntervals: 5,
    });
    expect(() => parseConfig({ ROLLGATE_METRIC_SOURCE: 'prometheus' })).toThrow(
      /ROLLGATE_PROMETHEUS_URL: the prometheus metric source needs the server/,
    );
    expect(() =>
      parseConfig({
        ROLLGATE_METRIC_SOURCE: 'graphite',
        ROLLGATE_PROMETHEUS_URL: 'prom:9090',
        ROLLGATE_ANALYSIS_MAX_WINDOW_FACTOR: '4',
        ROLLGATE_ANALYSIS_MAX_NODATA: '1.5',
      }),
    ).toThrow(
      /ROLLGATE_METRIC_SOURCE: must be one of embedded, prometheus[\s\S]*ROLLGATE_PROMETHEUS_URL: must be an http\(s\) URL[\s\S]*ROLLGATE_ANALYSIS_MAX_NODATA: must be an integer between 1 and 100[\s\S]*ROLLGATE_ANALYSIS_MAX_WINDOW_FACTOR: must be a number between 1 and 3/,
    );
  });

  it('production mode means Kafka and PostgreSQL unless overridden one by one', () => {
    expect(parseConfig({ ROLLGATE_MODE: 'production' })).toMatchObject({
      eventLog: 'kafka',
      storage: 'postgres',
    });
    expect(parseConfig({ ROLLGATE_MODE: 'production', ROLLGATE_STORAGE: 'sqlite' })).toMatchObject({
      eventLog: 'kafka',
      storage: 'sqlite',
    });
    expect(parseConfig({ KAFKA_BROKERS: '10.0.0.1:9092, 10.0.0.2:9092' }).kafkaBrokers).toEqual([
      '10.0.0.1:9092',
      '10.0.0.2:9092',
    ]);
  });

  it('names every invalid runtime setting', () => {
    expect(() =>
      parseConfig({
        ROLLGATE_MODE: 'cloud',
        KAFKA_BROKERS: 'kafka',
        ROLLGATE_DATABASE_URL: 'mysql://x',
        ROLLGATE_SCHEMA_PREFIX: 'Bad-',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          "ROLLGATE_MODE: must be one of embedded, production, got 'cloud'",
          "KAFKA_BROKERS: 'kafka' is not host:port",
          "ROLLGATE_DATABASE_URL: must be a postgres:// URL, got 'mysql://x'",
          "ROLLGATE_SCHEMA_PREFIX: must be lowercase letters, digits and _, got 'Bad-'",
        ],
      }) as Error,
    );
  });

  it('reads the services HAProxy routes, and refuses the haproxy data plane without any', () => {
    expect(
      parseConfig({
        ROLLGATE_DATA_PLANE: 'haproxy',
        ROLLGATE_HAPROXY_SERVICES: 'checkout:8081, orders',
      }).haproxyServices,
    ).toEqual([
      { service: 'checkout', port: 8081 },
      { service: 'orders', port: 0 },
    ]);
    expect(() =>
      parseConfig({ ROLLGATE_HAPROXY_SERVICES: 'Checkout:1,orders:99999,a:1,a:2' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          "ROLLGATE_HAPROXY_SERVICES: 'Checkout:1' is not service[:port] (a service name, port 0-65535)",
          "ROLLGATE_HAPROXY_SERVICES: 'orders:99999' is not service[:port] (a service name, port 0-65535)",
          "ROLLGATE_HAPROXY_SERVICES: 'a' is listed twice",
        ],
      }) as Error,
    );
    expect(() => parseConfig({ ROLLGATE_DATA_PLANE: 'haproxy' })).toThrow(
      /the haproxy data plane needs the services it routes/,
    );
  });

  it('reads overrides; a port override also moves the default URL', () => {
    const config = parseConfig({
      ROLLGATE_HOST: '0.0.0.0',
      ROLLGATE_TOKENS_FILE: '/etc/rollgate/tokens.json',
      ROLLGATE_FLAGS_PORT: '9004',
      ROLLGATE_ROUTER_URL: 'https://router.internal:8443/',
      ROLLGATE_TOKEN: 'rg_abc',
    });
    expect(config.host).toBe('0.0.0.0');
    expect(config.tokensFile).toBe('/etc/rollgate/tokens.json');
    expect(config.ports.flags).toBe(9004);
    expect(config.serviceUrls.flags).toBe('http://127.0.0.1:9004');
    expect(config.serviceUrls.router).toBe('https://router.internal:8443');
    expect(config.token).toBe('rg_abc');
  });

  it('fails fast listing every invalid key at once', () => {
    let error: unknown;
    try {
      parseConfig({
        ROLLGATE_ROUTER_PORT: 'eighty',
        ROLLGATE_FLAGS_PORT: '70000',
        ROLLGATE_MIGRATIONS_URL: 'ftp://db',
        ROLLGATE_TOKENS_FILE: ' ',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'ROLLGATE_TOKENS_FILE: must not be empty',
      "ROLLGATE_ROUTER_PORT: must be an integer between 1 and 65535, got 'eighty'",
      "ROLLGATE_FLAGS_PORT: must be an integer between 1 and 65535, got '70000'",
      "ROLLGATE_MIGRATIONS_URL: must be an http(s) URL, got 'ftp://db'",
    ]);
    expect((error as Error).message).toContain('invalid configuration:');
  });
});
