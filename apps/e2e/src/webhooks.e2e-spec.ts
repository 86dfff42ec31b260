import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EmbeddedEventLog, KafkaEventLog, type EventLog } from '@rollgate/event-log';
import { ALL_TOPICS, eventCatalog, type EventEnvelope } from '@rollgate/contracts';
import { issueToken } from '@rollgate/platform';
import { deploy, embeddedTarget, settle, type ReleaseTarget } from './release-scenarios';
import {
  api,
  digest,
  dropServiceSchemas,
  healthy,
  portsEnv,
  SERVICES,
  start,
  stop,
  tempDir,
  waitFor,
  type Proc,
} from './support';
import { WebhookReceiver } from './webhook-receiver';

/**
 * Webhooks against real local receivers during real releases, on both adapters: one fails then
 * recovers, one answers slower than its timeout, one is down for 60 s in the middle of a release,
 * and a Slack one gets the milestones. Every event reaches every receiver, in order per key,
 * signed; duplicates (at least once) carry the same ce-id and the same bytes.
 */

const V1 = { digest: digest('1'), version: 'v1' };
const V2 = { digest: digest('2'), version: 'v2' };
const TYPES = ['Release*', 'Route*', 'FleetDriftDetected'];
const SECRET = 'e2e-webhook-secret-0123456789';
const DOWN_MS = 60_000;

const topicOf = (event: EventEnvelope) =>
  eventCatalog.definition(event.type, event.version)!.topic.name;
const serviceOf = (event: EventEnvelope) =>
  typeof (event.data as { service?: unknown }).service === 'string'
    ? (event.data as { service: string }).service
    : event.key;
const matches = (service: string) => (event: EventEnvelope) =>
  serviceOf(event) === service &&
  (/^(Release|Route)/.test(event.type) || event.type === 'FleetDriftDetected');

/** Where the scenario runs: a started Rollgate, how to stop it, and its log. */
interface Setup {
  start(): Promise<ReleaseTarget>;
  stop(): Promise<void>;
  openLog(): EventLog;
}

function webhooksScenario(setup: Setup) {
  let target: ReleaseTarget;
  let service: string;
  let requests = 0;
  const flaky = new WebhookReceiver(SECRET, () => ({ status: ++requests <= 4 ? 500 : 200 }));
  // Slower than its 500 ms timeout the first time it sees an event: that delivery is retried.
  const slow = new WebhookReceiver(
    SECRET,
    (_, seen) => (seen === 0 ? { status: 200, delayMs: 1_500 } : { status: 200 }),
    (_, body) => (JSON.parse(body) as { id: string }).id,
  );
  const down = new WebhookReceiver(SECRET);
  const slack = new WebhookReceiver(
    SECRET,
    () => ({ status: 200 }),
    (_, body) => /event ([0-9a-f-]{36})/.exec(body)?.[1] ?? 'none',
  );
  const receivers = { flaky, slow, down, slack };
  const subscriptionIds: Record<string, string> = {};

  beforeAll(async () => {
    target = await setup.start();
    service = target.service;
    await Promise.all(Object.values(receivers).map((r) => r.start()));
  }, 240_000);

  afterAll(async () => {
    await setup.stop();
    await Promise.all(Object.values(receivers).map((r) => r.stop()));
  });

  const orchestrator = () => target.orchestrator;

  it('a receiver down for 60 s during a release receives every event afterwards, in order per key, signed', async () => {
    const formats = { flaky: 'binary', slow: 'structured', down: 'binary', slack: 'slack' };
    for (const [name, receiver] of Object.entries(receivers)) {
      const created = await api(`${orchestrator()}/subscriptions`, 'POST', target.token, {
        url: receiver.url,
        types: TYPES,
        service,
        secret: SECRET,
        format: formats[name as keyof typeof formats],
        ...(name === 'slow' ? { timeoutMs: 500 } : {}),
      });
      expect(created.status).toBe(201);
      subscriptionIds[name] = created.body['subscriptionId'] as string;
    }
    const shown = await api(
      `${orchestrator()}/subscriptions/${subscriptionIds['down']}`,
      'GET',
      target.token,
    );
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain(SECRET);
    expect(shown.body['secretFingerprint']).toMatch(/^sha256:[a-f0-9]{16}$/);

    const first = await deploy(target, V1, 'rolling', {}, true);
    await waitFor(() => down.receipts.length > 0, 'the down receiver to get a first event');
    await down.stop();
    const downAt = Date.now();
    await settle(target, first, ['succeeded'], 90_000);
    const second = await deploy(target, V2, 'rolling');
    await settle(target, second, ['succeeded'], 90_000);
    const missedWhileDown = down.receipts.length;
    await new Promise((r) => setTimeout(r, Math.max(0, DOWN_MS - (Date.now() - downAt))));
    await down.start();

    // Everything is delivered soon after: the retry delay is capped at 15 s.
    await waitFor(
      async () => {
        for (const id of Object.values(subscriptionIds)) {
          const view = await api(`${orchestrator()}/subscriptions/${id}`, 'GET', target.token);
          const counts = view.body['deliveries'] as Record<string, number>;
          if (counts['pending'] !== 0 || counts['delivered'] === 0) return false;
        }
        return true;
      },
      'every delivery',
      40_000,
    );
    const attempts = await api(
      `${orchestrator()}/subscriptions/${subscriptionIds['down']}/deliveries?limit=1000`,
      'GET',
      target.token,
    );
    const failures = (attempts.body as unknown as { outcome: string; error: string }[]).filter(
      (a) => a.outcome === 'failed',
    );
    expect(failures.length).toBeGreaterThan(2);
    expect(failures[0]!.error).toMatch(/ECONNREFUSED|fetch failed/);
    const dead = await api(
      `${orchestrator()}/subscriptions/${subscriptionIds['down']}/dead-letters`,
      'GET',
      target.token,
    );
    expect(dead.body).toEqual([]);

    await setup.stop();
    const log = setup.openLog();
    const expected: EventEnvelope[] = [];
    try {
      // Kafka's topics are shared: skip what other tests left malformed on purpose.
      for (const topic of ALL_TOPICS)
        for await (const e of log.readRange({ topic: topic.name, onMalformed: 'skip' }))
          if (matches(service)(e.event)) expected.push(e.event);
    } finally {
      await log.close();
    }
    expect(expected.filter((e) => e.type === 'ReleaseSucceeded')).toHaveLength(2);
    expect(down.receipts.length).toBeGreaterThan(missedWhileDown);

    const envelopeOf = {
      flaky: (body: string) => JSON.parse(body) as EventEnvelope,
      down: (body: string) => JSON.parse(body) as EventEnvelope,
      slow: (body: string) => (JSON.parse(body) as { data: EventEnvelope }).data,
    };
    for (const [name, parse] of Object.entries(envelopeOf)) {
      const receiver = receivers[name as keyof typeof envelopeOf];
      // Nothing lost, nothing extra.
      expect([name, [...receiver.accepted()].sort()]).toEqual([
        name,
        expected.map((e) => e.id).sort(),
      ]);
      // In log order per key (and topic: the log orders a key within its topic's partition).
      const byId = new Map(receiver.receipts.map((r) => [r.ceId, parse(r.body)]));
      for (const topic of ALL_TOPICS) {
        const got = receiver.accepted().filter((id) => topicOf(byId.get(id)!) === topic.name);
        const want = expected.filter((e) => topicOf(e) === topic.name).map((e) => e.id);
        expect([name, topic.name, got]).toEqual([name, topic.name, want]);
      }
      expect([name, receiver.receipts.filter((r) => !r.signatureValid)]).toEqual([name, []]);
      // At least once: a repeat is the same CloudEvent, byte for byte.
      for (const receipt of receiver.receipts) {
        const first = receiver.receipts.find((r) => r.ceId === receipt.ceId)!;
        expect(receipt.body).toBe(first.body);
        expect(parse(receipt.body).id).toBe(receipt.ceId);
      }
    }
    expect(flaky.receipts.filter((r) => r.status === 500)).toHaveLength(4);
    expect(slow.receipts.length).toBeGreaterThanOrEqual(2 * expected.length);
    expect(flaky.receipts[0]!.headers['ce-type']).toMatch(/^rollgate\./);
    expect(slow.receipts[0]!.headers['content-type']).toMatch(/^application\/cloudevents\+json/);

    // Slack: only the milestones, as messages.
    const texts = slack.receipts.map((r) => (JSON.parse(r.body) as { text: string }).text);
    expect(texts.filter((t) => t.startsWith(`:rocket: Release of *${service}*`))).toHaveLength(2);
    expect(
      texts.filter((t) => t.startsWith(`:white_check_mark: Release of *${service}*`)),
    ).toHaveLength(2);
    expect(texts).toHaveLength(4);
    expect(slack.receipts.every((r) => r.signatureValid)).toBe(true);
  }, 400_000);
}

describe('webhooks on the embedded default, against real receivers', () => {
  const dir = tempDir('webhooks');
  const env = {
    ...portsEnv(25300),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
  };
  let host: Proc | undefined;
  webhooksScenario({
    async start() {
      const started = await embeddedTarget(env, 'hooks');
      host = started.host;
      return started.target;
    },
    async stop() {
      if (host) await stop(host);
      host = undefined;
    },
    openLog: () => new EmbeddedEventLog({ file: join(dir, 'data', 'events.db') }),
  });
});

describe('webhooks in production mode (Kafka and PostgreSQL), against real receivers', () => {
  const dir = tempDir('webhooks-production');
  const prefix = `e2ehook${randomUUID().slice(0, 6)}_`;
  const env = {
    ...portsEnv(25400),
    ROLLGATE_MODE: 'production',
    ROLLGATE_SCHEMA_PREFIX: prefix,
    ROLLGATE_TOKENS_FILE: join(dir, 'tokens.json'),
    ROLLGATE_DATA_DIR: join(dir, 'data'),
  };
  const procs = new Map<string, Proc>();
  webhooksScenario({
    async start() {
      const token = issueToken(env.ROLLGATE_TOKENS_FILE, { subject: 'ci', scopes: ['admin'] });
      // Started one by one (not startServiceProcesses): a process that comes up is stopped
      // by afterAll even when another one does not.
      for (const name of SERVICES) procs.set(name, start(`apps/${name}/src/main.ts`, env));
      const urls = SERVICES.map(
        (name) => (env as Record<string, string>)[`ROLLGATE_${name.toUpperCase()}_URL`]!,
      );
      await waitFor(
        async () => (await Promise.all(urls.map(healthy))).every(Boolean),
        'five healthy services',
        180_000,
      ).catch((error: Error) => {
        const output = [...procs].map(([name, p]) => `--- ${name}\n${p.output().slice(-1500)}`);
        throw new Error(`${error.message}\n${output.join('\n')}`);
      });
      return {
        orchestrator: env.ROLLGATE_ORCHESTRATOR_URL,
        router: env.ROLLGATE_ROUTER_URL,
        token,
        // The Kafka topics are shared by every run: a service of its own tells this run's events.
        service: `hooks-${prefix.slice(7, 13)}`,
        output: () =>
          [...procs].map(([name, p]) => `--- ${name}\n${p.output().slice(-1500)}`).join('\n'),
      };
    },
    async stop() {
      await Promise.all([...procs.values()].map((p) => stop(p)));
      procs.clear();
      await dropServiceSchemas(prefix);
    },
    openLog: () =>
      new KafkaEventLog({
        brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(','),
        clientId: 'webhooks-e2e',
      }),
  });
});
