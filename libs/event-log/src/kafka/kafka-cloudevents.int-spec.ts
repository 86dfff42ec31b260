import { randomUUID } from 'node:crypto';
import { CloudEvent, Kafka as CloudEvents, type KafkaMessage } from 'cloudevents';
import { Kafka, logLevel } from 'kafkajs';
import {
  EventCatalog,
  PUBLISHED_EVENTS,
  TOPICS,
  UPCASTERS,
  type EventEnvelope,
} from '@rollgate/contracts';
import { headersToStrings, KafkaEventLog } from './kafka-event-log';

const brokers = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
// The published catalog with the releases topic renamed, so the test reads only its own records.
const topic = `cloudevents-${randomUUID().slice(0, 8)}.${TOPICS.releases.name}`;
const releases = { ...TOPICS.releases, name: topic };
const catalog = new EventCatalog(
  PUBLISHED_EVENTS.map((d) =>
    d.topic.name === TOPICS.releases.name ? { ...d, topic: releases } : d,
  ),
  UPCASTERS,
);

/** Every record of the topic as the cloudevents SDK's Kafka binding reads it. */
async function readAsCloudEvents(count: number): Promise<CloudEvent<EventEnvelope>[]> {
  const raw = new Kafka({ clientId: 'cloudevents-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = raw.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const events: CloudEvent<EventEnvelope>[] = [];
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value!.toString('utf8');
        const record: KafkaMessage = {
          key: message.key!.toString('utf8'),
          value,
          body: value,
          headers: headersToStrings(message.headers),
        };
        events.push(CloudEvents.toEvent(record) as CloudEvent<EventEnvelope>);
        if (events.length === count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return events;
}

describe('CloudEvents on Kafka', () => {
  it('every record the adapter writes reads as a valid binary-mode CloudEvent', async () => {
    const log = new KafkaEventLog({ brokers, clientId: 'cloudevents', catalog });
    await log.ensureTopics([releases]);
    const ref = { releaseId: 'rel-7', service: 'checkout' };
    const [requested] = await log.append([
      {
        type: 'ReleaseRequested',
        version: 2,
        actor: 'user:alice',
        correlationId: 'rel-7',
        causationId: null,
        key: 'checkout',
        data: {
          ...ref,
          artifact: { name: 'checkout', digest: `sha256:${'e'.repeat(64)}` },
          strategy: 'canary',
        },
      },
    ]);
    const [succeeded] = await log.append([
      {
        type: 'ReleaseSucceeded',
        version: 1,
        actor: 'service:orchestrator',
        correlationId: 'rel-7',
        causationId: requested!.event.id,
        key: 'checkout',
        data: { ...ref, reason: 'all steps passed' },
      },
    ]);
    await log.close();

    const [first, second] = await readAsCloudEvents(2);
    for (const cloudEvent of [first!, second!]) expect(cloudEvent.validate()).toBe(true);
    expect(first).toMatchObject({
      specversion: '1.0',
      id: requested!.event.id,
      source: '/rollgate/checkout',
      type: 'rollgate.ReleaseRequested',
      time: requested!.event.occurredAt,
      subject: 'rel-7',
      dataschema: 'urn:rollgate:event:ReleaseRequested.v2',
      datacontenttype: 'application/json',
      correlationid: 'rel-7',
      partitionkey: 'checkout',
      data: requested!.event,
    });
    expect(first).not.toHaveProperty('causationid');
    expect(second).toMatchObject({
      id: succeeded!.event.id,
      type: 'rollgate.ReleaseSucceeded',
      dataschema: 'urn:rollgate:event:ReleaseSucceeded.v1',
      causationid: requested!.event.id,
      data: succeeded!.event,
    });
  });
});
