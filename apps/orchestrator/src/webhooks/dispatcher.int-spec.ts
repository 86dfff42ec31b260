import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { verifyWebhookSignature, type EventEnvelope } from '@rollgate/contracts';
import { inTransaction, openServiceDataSource, type StorageConfig } from '@rollgate/persistence';
import { createTestDatabase, eventually } from '@rollgate/platform/testing';
import { WebhookDispatcher } from './dispatcher';
import { Webhooks1764000000900 } from './migrations/1764000000900-webhooks';
import { WebhookStore, type SubscriptionRow } from './webhook-store';

const SECRET = 'integration-test-secret';

interface Received {
  ceId: string;
  key: string;
  body: string;
  signatureValid: boolean;
  answered: number;
}

/** A real HTTP receiver; `answer` decides, per request, the status and a delay before it. */
async function receiver(
  answer: (ceId: string, seen: number) => { status: number; delayMs?: number },
) {
  const received: Received[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ceId = String(request.headers['ce-id']);
      const seen = received.filter((r) => r.ceId === ceId).length;
      const { status, delayMs = 0 } = answer(ceId, seen);
      received.push({
        ceId,
        key: (JSON.parse(body) as EventEnvelope).key,
        body,
        signatureValid: verifyWebhookSignature({
          secret: SECRET,
          header: request.headers['rollgate-signature'] as string | undefined,
          body,
        }).valid,
        answered: status,
      });
      setTimeout(() => response.writeHead(status).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    /** Event ids in the order the receiver accepted them (2xx), first time only. */
    accepted: (key: string) => [
      ...new Set(received.filter((r) => r.answered < 300 && r.key === key).map((r) => r.ceId)),
    ],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function event(key: string, n: number): EventEnvelope {
  return {
    id: uuidv7(),
    type: 'ReleasePaused',
    version: 1,
    occurredAt: new Date().toISOString(),
    actor: 'user:test',
    correlationId: `rel-${key}`,
    causationId: null,
    key,
    sequence: n,
    data: { releaseId: `rel-${key}`, service: key, reason: `pause ${n}` },
  };
}

const storages: [string, () => Promise<{ storage: StorageConfig; drop: () => Promise<void> }>][] = [
  [
    'SQLite',
    async () => ({
      storage: { kind: 'sqlite', directory: mkdtempSync(join(tmpdir(), 'webhooks-')) },
      drop: async () => undefined,
    }),
  ],
  [
    'PostgreSQL',
    async () => {
      const database = await createTestDatabase('webhooks_');
      return { storage: { kind: 'postgres', url: database.url }, drop: database.drop };
    },
  ],
];

describe.each(storages)('webhook dispatcher on %s, against real HTTP receivers', (_, open) => {
  let dataSource: DataSource;
  let store: WebhookStore;
  let dispatcher: WebhookDispatcher;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await open();
    drop = opened.drop;
    dataSource = await openServiceDataSource({
      service: 'webhooks',
      storage: opened.storage,
      entities: [],
      migrations: [Webhooks1764000000900],
    });
    store = new WebhookStore(dataSource);
    // No jitter upwards: retries come at 250, 500, 1000 ms, so the suite stays short.
    dispatcher = new WebhookDispatcher(store, { pollMs: 50, random: () => 0 });
    dispatcher.start();
  });

  afterAll(async () => {
    await dispatcher.stop();
    await dataSource.destroy();
    await drop();
  });

  async function subscribe(url: string, overrides: Partial<SubscriptionRow> = {}) {
    const row: SubscriptionRow = {
      id: uuidv7(),
      url,
      secret: SECRET,
      secretFingerprint: 'sha256:0000000000000000',
      types: ['*'],
      service: null,
      format: 'binary',
      timeoutMs: 2_000,
      maxAttempts: 20,
      createdAt: new Date().toISOString(),
      createdBy: 'user:test',
      deletedAt: null,
      ...overrides,
    };
    await inTransaction(dataSource, (manager) => store.insertSubscription(manager, row));
    return row;
  }

  const countsUntil = (
    subscriptionId: string,
    done: (counts: Record<string, number>) => boolean,
    what: string,
  ) => eventually(() => store.counts(subscriptionId), done, what, 30_000);

  async function enqueue(subscriptionId: string, events: EventEnvelope[]) {
    await inTransaction(dataSource, async (manager) => {
      for (const e of events)
        await store.enqueue(manager, subscriptionId, e, 'live', new Date().toISOString());
    });
  }

  it('retries a receiver that fails, in order per key, and records every attempt', async () => {
    let requests = 0;
    const flaky = await receiver(() => ({ status: ++requests <= 3 ? 503 : 200 }));
    const subscription = await subscribe(flaky.url);
    const a = [1, 2, 3, 4, 5].map((n) => event('alpha', n));
    const b = [1, 2, 3].map((n) => event('beta', n));
    await enqueue(subscription.id, [a[0]!, b[0]!, a[1]!, a[2]!, b[1]!, a[3]!, b[2]!, a[4]!]);
    await countsUntil(subscription.id, (c) => c['delivered'] === 8, '8 delivered');
    expect(flaky.accepted('alpha')).toEqual(a.map((e) => e.id));
    expect(flaky.accepted('beta')).toEqual(b.map((e) => e.id));
    expect(flaky.received.every((r) => r.signatureValid)).toBe(true);
    const attempts = await store.attempts(subscription.id, 100);
    expect(attempts.filter((t) => t.outcome === 'failed')).toHaveLength(3);
    expect(attempts.filter((t) => t.outcome === 'failed').map((t) => t.statusCode)).toEqual([
      503, 503, 503,
    ]);
    expect(attempts.filter((t) => t.outcome === 'delivered')).toHaveLength(8);
    await flaky.close();
  });

  it('retries a receiver slower than the timeout; duplicates carry the same ce-id and body', async () => {
    const slow = await receiver((_, seen) =>
      seen === 0 ? { status: 200, delayMs: 1_000 } : { status: 200 },
    );
    const subscription = await subscribe(slow.url, { timeoutMs: 300 });
    const events = [1, 2, 3].map((n) => event('gamma', n));
    await enqueue(subscription.id, events);
    await countsUntil(subscription.id, (c) => c['delivered'] === 3, '3 delivered');
    expect(slow.accepted('gamma')).toEqual(events.map((e) => e.id));
    for (const e of events) {
      const copies = slow.received.filter((r) => r.ceId === e.id);
      expect(copies.length).toBe(2);
      expect(new Set(copies.map((c) => c.body)).size).toBe(1);
    }
    const failed = (await store.attempts(subscription.id, 100)).filter(
      (t) => t.outcome === 'failed',
    );
    expect(failed).toHaveLength(3);
    expect(failed[0]!.error).toBe('no answer within 300 ms');
    await slow.close();
  });

  it('dead-letters after max attempts, unblocks the key, and redelivers on request', async () => {
    let healthy = false;
    const down = await receiver(() => ({ status: healthy ? 204 : 500 }));
    const subscription = await subscribe(down.url, { maxAttempts: 2 });
    const [first, second] = [1, 2].map((n) => event('delta', n));
    await enqueue(subscription.id, [first!]);
    await countsUntil(subscription.id, (c) => c['dead'] === 1, '1 dead');
    const [dead] = await store.deliveries(subscription.id, 'dead', 10);
    expect(dead).toMatchObject({ eventId: first!.id, attempts: 2, lastError: 'HTTP 500' });
    healthy = true;
    await enqueue(subscription.id, [second!]);
    await countsUntil(subscription.id, (c) => c['delivered'] === 1, '1 delivered');
    expect(await store.redeliver(subscription.id, [dead!.id], new Date().toISOString())).toBe(1);
    await countsUntil(
      subscription.id,
      (c) => c['delivered'] === 2 && c['dead'] === 0,
      'the redelivered dead letter',
    );
    expect(down.accepted('delta')).toEqual([second!.id, first!.id]);
    await down.close();
  });
});
