import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { EventCatalog } from './catalog';
import type { EventEnvelope, NewEvent } from './envelope';
import type { LatestEvent } from './event-types';
import { eventHeaders } from './headers';
import { PUBLISHED_EVENTS, UPCASTERS } from './registry';
import { subscribe, type DeliveredRecord } from './subscribe';
import { TOPICS } from './topics';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const kafka = new Kafka({ clientId: 'subscribe-test', brokers, logLevel: logLevel.NOTHING });
const topic = `subscribe-${randomUUID().slice(0, 8)}.${TOPICS.releases.name}`;
// The published catalog with the releases topic renamed: every test starts from an empty log.
const catalog = new EventCatalog(
  PUBLISHED_EVENTS.map((d) =>
    d.topic.name === TOPICS.releases.name ? { ...d, topic: { ...d.topic, name: topic } } : d,
  ),
  UPCASTERS,
);
const producer = kafka.producer({ allowAutoTopicCreation: false });
const consumer = kafka.consumer({ groupId: `subscribe-test-${topic}`, maxWaitTimeInMs: 100 });

const releaseEvent = (type: string, version: number, data: object): EventEnvelope =>
  catalog.create({
    type,
    version,
    actor: 'user:alice',
    correlationId: 'rel-1',
    causationId: null,
    key: 'checkout',
    data,
  } as NewEvent);

const artifact = { name: 'checkout', digest: `sha256:${'c'.repeat(64)}` };
const ref = { releaseId: 'rel-1', service: 'checkout' };

beforeAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  await Promise.all([producer.connect(), consumer.connect()]);
});
afterAll(async () => Promise.all([producer.disconnect(), consumer.disconnect()]));

it('hands each handler its type at the latest version, skips other types, reports invalid records', async () => {
  const requested = releaseEvent('ReleaseRequested', 1, { ...ref, artifact, strategy: 'canary' });
  const drift = releaseEvent('FleetDriftDetected', 1, {
    service: 'checkout',
    releaseId: null,
    instanceId: 'i-1',
    intendedDigest: artifact.digest,
    reportedDigest: `sha256:${'d'.repeat(64)}`,
  });
  const succeeded = releaseEvent('ReleaseSucceeded', 1, { ...ref, reason: 'all steps passed' });
  const record = (event: EventEnvelope) => ({
    key: event.key,
    value: catalog.encode(event),
    headers: eventHeaders(event),
  });
  await producer.send({
    topic,
    acks: -1,
    messages: [
      record(requested),
      record(drift),
      // A record of a handled type that is not an event: reported, then skipped.
      { key: 'checkout', value: 'not json', headers: { 'event-type': 'ReleaseSucceeded' } },
      record(succeeded),
    ],
  });

  const seen: [string, number, Record<string, string>][] = [];
  const invalid: string[] = [];
  let strategy: string | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const note = (event: LatestEvent, delivered: DeliveredRecord) =>
    seen.push([event.type, event.version, delivered.headers]);
  await subscribe({
    consumer,
    catalog,
    handlers: {
      ReleaseRequested: (event, delivered) => {
        strategy = event.data.strategy;
        note(event, delivered);
      },
      ReleaseSucceeded: (event, delivered) => {
        note(event, delivered);
        done();
      },
    },
    onInvalid: (error) => {
      invalid.push(error.message);
    },
  });
  await finished;

  // Upcast on the way in: written at version 1, handled at version 2.
  expect(seen.map(([type, version]) => [type, version])).toEqual([
    ['ReleaseRequested', 2],
    ['ReleaseSucceeded', 1],
  ]);
  expect(strategy).toBe('canary');
  expect(seen[0]![2]).toMatchObject({ ce_id: requested.id, ce_type: 'rollgate.ReleaseRequested' });
  expect(invalid).toHaveLength(1);
  expect(invalid[0]).toMatch(new RegExp(`^${topic.replace(/\./g, '\\.')}:0:2: .*JSON`));
});

it('refuses handlers that name no event type', async () => {
  await expect(subscribe({ consumer, catalog, handlers: {} })).rejects.toThrow(
    'handlers must name at least one event type',
  );
});
