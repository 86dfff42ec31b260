import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { FileTokenStore, issueToken, type ServiceRuntime } from '@rollgate/platform';
import {
  createTestDatabase,
  openTestRuntime,
  startPrometheus,
  tempTokensFile,
  type PrometheusServer,
} from '@rollgate/platform/testing';
import { ANALYSIS_PERSISTENCE, AnalysisAppModule } from '../app.module';

const YAML_CONFIG = `
apiVersion: rollgate/v1
kind: CanaryConfig
description: checkout canaries
metrics:
  - name: errors
    query:
      embedded: error-rate
      prometheus: >-
        sum(rate(http_server_requests_seconds_count{service="\${service}",group="\${group}",status=~"5.."}[\${interval}]))
        / sum(rate(http_server_requests_seconds_count{service="\${service}",group="\${group}"}[\${interval}]))
    direction: increase
    critical: true
  - name: checkouts
    query:
      prometheus: sum(rate(checkout_completed_total{version="\${version}"}[\${interval}]))
    direction: decrease
judge:
  name: sequential
  settings: { alpha: 0.005 }
`;

const metric = (name: string, prometheus: string) => ({
  name,
  query: { prometheus },
  direction: 'increase',
});

const config = (overrides: object = {}) => ({
  apiVersion: 'rollgate/v1',
  kind: 'CanaryConfig',
  metrics: [metric('latency', 'histogram_quantile(0.99, rate(latency_bucket[${interval}]))')],
  judge: { name: 'threshold' },
  ...overrides,
});

const storages: [
  string,
  () => Promise<{ env: Record<string, string>; drop: () => Promise<void> }>,
][] = [
  ['SQLite', async () => ({ env: {}, drop: async () => undefined })],
  [
    'PostgreSQL',
    async () => {
      const database = await createTestDatabase('canary_');
      return {
        env: { ROLLGATE_STORAGE: 'postgres', ROLLGATE_DATABASE_URL: database.url },
        drop: database.drop,
      };
    },
  ],
];

describe.each(storages)(
  'canary configs API on %s and the embedded log, PromQL checked by a real Prometheus',
  (_, open) => {
    let prometheus: PrometheusServer;
    let runtime: ServiceRuntime;
    let app: INestApplication;
    let drop: () => Promise<void>;
    const tokensFile = tempTokensFile();
    const deployer = issueToken(tokensFile, { subject: 'ci', scopes: ['deploy', 'read'] });
    const reader = issueToken(tokensFile, { subject: 'viewer', scopes: ['read'] });
    const otherTeam = issueToken(tokensFile, {
      subject: 'payments-ci',
      scopes: ['deploy', 'read'],
      services: ['payments'],
    });

    const put = (name: string, body: object, token = deployer) =>
      request(app.getHttpServer())
        .put(`/canary-configs/${name}`)
        .set('Authorization', `Bearer ${token}`)
        .send(body);
    const get = (path: string) =>
      request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${reader}`);
    const stored = async (name: string) =>
      (await runtime.eventStore.load(`canary-config-${name}`)).length;

    beforeAll(async () => {
      prometheus = await startPrometheus([]);
      const opened = await open();
      drop = opened.drop;
      runtime = await openTestRuntime('analysis', ANALYSIS_PERSISTENCE, {
        ...opened.env,
        ROLLGATE_PROMETHEUS_URL: prometheus.url,
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          AnalysisAppModule.forRoot({ tokenStore: new FileTokenStore(tokensFile), runtime }),
        ],
      }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      await app.init();
    }, 60_000);

    afterAll(async () => {
      // The app owns the runtime: closing it closes the database and the log.
      await app?.close();
      await prometheus?.stop('SIGKILL');
      await drop?.();
    });

    it('applies a YAML config as version 1, again unchanged, then a JSON change as version 2', async () => {
      const first = await put('checkout', { config: YAML_CONFIG });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ name: 'checkout', version: 1, changed: true });
      const again = await put('checkout', { config: YAML_CONFIG });
      expect(again.body).toMatchObject({ version: 1, changed: false, eventIds: [] });
      const v1 = await get('/canary-configs/checkout');
      expect(v1.body).toMatchObject({ version: 1, appliedBy: 'user:ci' });
      expect(v1.body.config.metrics[1].query.prometheus).toContain('${version}');

      // A dry run validates and says what it would do, storing nothing.
      const dryRun = await put('checkout?dryRun=true', { config: config() });
      expect(dryRun.body).toEqual({ name: 'checkout', version: 2, changed: true, eventIds: [] });
      expect(await stored('checkout')).toBe(1);
      expect((await put('checkout?dryRun=yes', { config: config() })).body.details).toEqual([
        { field: 'dryRun', problem: 'must be true or false' },
      ]);

      const second = await put('checkout', { config: config() });
      expect(second.body).toMatchObject({ version: 2, changed: true });
      const history = await get('/canary-configs/checkout/versions');
      expect(history.body.map((v: { version: number }) => v.version)).toEqual([1, 2]);
      expect(history.body[1].config.judge).toEqual({ name: 'threshold' });
      expect(await stored('checkout')).toBe(2);

      // Any moment: the version in force then.
      const between = new Date(Date.parse(history.body[1].appliedAt) - 1).toISOString();
      expect((await get(`/canary-configs/checkout?at=${between}`)).body.version).toBe(1);
      const early = await get('/canary-configs/checkout?at=2020-01-01T00:00:00Z');
      expect(early.status).toBe(404);
      expect((await get('/canary-configs/checkout?at=yesterday')).body.details).toEqual([
        { field: 'at', problem: 'must be an ISO 8601 date-time' },
      ]);
    });

    it.each([
      [
        'an unknown placeholder',
        config({ metrics: [metric('latency', 'up{job="${foo}"}')] }),
        'metrics[0].query.prometheus',
        'unknown placeholder ${foo}',
      ],
      [
        'PromQL that Prometheus cannot parse',
        config({
          metrics: [
            metric('errors', 'sum(rate(errors_total[${interval}]))'),
            metric('latency', 'sum(rate(latency_sum{group="${group}"}[${interval}])'),
          ],
        }),
        'metrics[1].query.prometheus',
        'Prometheus rejects the query',
      ],
      [
        'a requests query that Prometheus cannot parse',
        config({
          metrics: [metric('errors', 'sum(rate(errors_total[${interval}]))')],
          requests: { prometheus: 'sum(increase(requests_total{group="${group}"}[${interval}])' },
        }),
        'requests.prometheus',
        'Prometheus rejects the query',
      ],
      [
        'group weights not summing to 100',
        config({
          metrics: [
            { ...metric('errors', 'errors_total'), group: 'errors' },
            { ...metric('latency', 'latency_sum'), group: 'latency' },
          ],
          groupWeights: { errors: 60, latency: 30 },
        }),
        'groupWeights',
        'must sum to 100',
      ],
      [
        'a duplicate metric name',
        config({ metrics: [metric('latency', 'a'), metric('latency', 'b')] }),
        'metrics',
        'duplicate name "latency"',
      ],
    ])('refuses %s with 400 naming the path, storing nothing', async (_, body, field, problem) => {
      const response = await put('search', { config: body });
      expect(response.status).toBe(400);
      expect(response.body.details).toContainEqual({
        field,
        problem: expect.stringContaining(problem),
      });
      expect(await stored('search')).toBe(0);
      expect((await get('/canary-configs/search')).status).toBe(404);
    });

    it('refuses text that is neither JSON nor YAML, and a name in the document that is not the URL', async () => {
      const garbled = await put('search', { config: 'metrics: [unclosed' });
      expect(garbled.status).toBe(400);
      expect(garbled.body.details[0].field).toBe('config');
      const renamed = await put('search', { config: config({ name: 'checkout' }) });
      expect(renamed.body.details).toEqual([
        { field: 'name', problem: 'is "checkout" but the URL names "search"' },
      ]);
    });

    it('needs deploy to apply (and a token allowed to touch the service), read to read', async () => {
      expect((await put('search', { config: config() }, reader)).status).toBe(403);
      expect((await put('search', { config: config() }, otherTeam)).status).toBe(403);
      const anonymous = await request(app.getHttpServer())
        .put('/canary-configs/search')
        .send({ config: config() });
      expect(anonymous.status).toBe(401);
      expect(await stored('search')).toBe(0);
    });

    it('answers 503 naming Prometheus when it cannot check the PromQL, and stores nothing', async () => {
      await prometheus.stop('SIGKILL');
      const response = await put('search', { config: config() });
      expect(response.status).toBe(503);
      expect(response.body.message).toContain(`Prometheus at ${prometheus.url} is unreachable`);
      expect(await stored('search')).toBe(0);
      // A config without PromQL needs no Prometheus.
      const embeddedOnly = config({
        metrics: [{ name: 'errors', query: { embedded: 'error-rate' }, direction: 'increase' }],
      });
      expect((await put('search', { config: embeddedOnly })).status).toBe(200);
    });
  },
);
