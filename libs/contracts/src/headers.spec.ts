import { CloudEvent, Kafka, type KafkaMessage } from 'cloudevents';
import type { NewEvent } from './envelope';
import { eventHeaders, KAFKA_HEADERS } from './headers';
import { eventCatalog } from './registry';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

const requested = (overrides: Partial<NewEvent> = {}) =>
  eventCatalog.create({
    type: 'ReleaseRequested',
    version: 2,
    actor: 'user:alice',
    correlationId: 'rel-42',
    causationId: null,
    key: 'checkout',
    data: {
      releaseId: 'rel-42',
      service: 'checkout',
      artifact: { name: 'checkout', digest: DIGEST },
      strategy: 'canary',
    },
    ...overrides,
  });

/** The record the Kafka adapter writes for `event`, as a CloudEvents SDK reads it. */
function asCloudEvent(event: ReturnType<typeof requested>): CloudEvent<unknown> {
  const value = eventCatalog.encode(event);
  const message: KafkaMessage = {
    key: event.key,
    value,
    body: value,
    headers: eventHeaders(event),
  };
  expect(Kafka.isEvent(message)).toBe(true);
  return Kafka.toEvent(message) as CloudEvent<unknown>;
}

describe('eventHeaders', () => {
  it('keeps the headers our own consumers read', () => {
    const event = requested();
    expect(eventHeaders(event)).toMatchObject({
      [KAFKA_HEADERS.eventType]: 'ReleaseRequested',
      [KAFKA_HEADERS.eventVersion]: '2',
      [KAFKA_HEADERS.eventId]: event.id,
      [KAFKA_HEADERS.correlationId]: 'rel-42',
    });
  });

  it('is a valid CloudEvent in binary mode to the cloudevents SDK, with the envelope as data', () => {
    const event = requested();
    const cloudEvent = asCloudEvent(event);
    expect(cloudEvent.validate()).toBe(true);
    expect(cloudEvent).toMatchObject({
      specversion: '1.0',
      id: event.id,
      source: '/rollgate/checkout',
      type: 'rollgate.ReleaseRequested',
      time: event.occurredAt,
      subject: 'rel-42',
      dataschema: 'urn:rollgate:event:ReleaseRequested.v2',
      datacontenttype: 'application/json',
      correlationid: 'rel-42',
      partitionkey: 'checkout',
    });
    expect(cloudEvent.data).toEqual(event);
    // A person's direct action has no cause: the attribute is absent, never null.
    expect(cloudEvent).not.toHaveProperty('causationid');
  });

  it('carries the causation as an extension attribute when there is one', () => {
    const cause = requested();
    const cloudEvent = asCloudEvent(requested({ causationId: cause.id }));
    expect(cloudEvent.validate()).toBe(true);
    expect(cloudEvent['causationid']).toBe(cause.id);
  });

  it('encodes a key that is not URI-safe into a valid source', () => {
    const cloudEvent = asCloudEvent(requested({ key: 'shop/new checkout' }));
    expect(cloudEvent.source).toBe('/rollgate/shop%2Fnew%20checkout');
    expect(cloudEvent.validate()).toBe(true);
  });
});
