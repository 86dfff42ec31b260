import type { EventCatalog } from './catalog';
import { ENVELOPE_JSON_SCHEMA } from './catalog';
import type { EventDefinition } from './definition';
import {
  CLOUDEVENT_TYPE_PREFIX,
  CLOUDEVENTS_SPEC_VERSION,
  cloudEventDataSchema,
  DEAD_LETTER_HEADERS,
  KAFKA_HEADERS,
} from './headers';
import { ALL_TOPICS, deadLetterTopicOf, type TopicDefinition } from './topics';
import { CONTRACTS_VERSION } from './version';

type Schema = Record<string, unknown>;
type Ref = { $ref: string };

export interface AsyncApiChannel {
  address: string;
  title: string;
  description: string;
  messages: Record<string, Ref>;
  bindings: { kafka: Schema };
}

export interface AsyncApiMessage {
  name: string;
  title: string;
  summary: string;
  contentType: string;
  correlationId?: { description: string; location: string };
  headers: Schema;
  payload: Schema;
  bindings: { kafka: { key: Schema; bindingVersion: string } };
}

export interface AsyncApiDocument {
  asyncapi: '3.0.0';
  info: { title: string; version: string; description: string };
  defaultContentType: string;
  channels: Record<string, AsyncApiChannel>;
  components: { messages: Record<string, AsyncApiMessage> };
}

const KAFKA_BINDING_VERSION = '0.5.0';
const DEAD_LETTER_MESSAGE = 'DeadLetter';

/** Component id of one (type, version), e.g. `ReleaseRequested.v1`. */
export function asyncApiMessageId(type: string, version: number): string {
  return `${type}.v${version}`;
}

/**
 * ajv's `nullable` is an OpenAPI keyword, not JSON Schema: AsyncAPI tools would ignore it,
 * so it becomes a `type` union that every draft-07 reader understands.
 */
function toJsonSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toJsonSchema);
  if (typeof value !== 'object' || value === null) return value;
  const { nullable, ...rest } = value as Schema;
  const out: Schema = Object.fromEntries(
    Object.entries(rest).map(([key, inner]) => [key, toJsonSchema(inner)]),
  );
  if (nullable === true && typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
  return out;
}

function headersOf(definition: EventDefinition): Schema {
  const { type, version } = definition;
  return {
    type: 'object',
    description:
      'Our headers, plus the CloudEvents 1.0 Kafka protocol binding in binary mode: the `ce_*` ' +
      'attributes and `content-type`; the record value (the envelope) is the CloudEvent data.',
    properties: {
      [KAFKA_HEADERS.eventType]: { type: 'string', const: type },
      [KAFKA_HEADERS.eventVersion]: { type: 'string', const: String(version) },
      [KAFKA_HEADERS.eventId]: { type: 'string', format: 'uuid', description: 'Envelope id.' },
      [KAFKA_HEADERS.correlationId]: { type: 'string', description: 'Envelope correlationId.' },
      [KAFKA_HEADERS.traceparent]: {
        type: 'string',
        pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
        description: 'W3C trace context of the producing span.',
      },
      [KAFKA_HEADERS.ceSpecVersion]: { type: 'string', const: CLOUDEVENTS_SPEC_VERSION },
      [KAFKA_HEADERS.ceId]: { type: 'string', format: 'uuid', description: 'Envelope id.' },
      [KAFKA_HEADERS.ceSource]: {
        type: 'string',
        format: 'uri-reference',
        pattern: '^/rollgate/',
        description:
          '`/rollgate/<envelope key>` (URI-encoded): the stream of one service or flag project.',
      },
      [KAFKA_HEADERS.ceType]: { type: 'string', const: CLOUDEVENT_TYPE_PREFIX + type },
      [KAFKA_HEADERS.ceTime]: {
        type: 'string',
        format: 'date-time',
        description: 'Envelope occurredAt.',
      },
      [KAFKA_HEADERS.ceSubject]: {
        type: 'string',
        description: 'Envelope correlationId: the release, flag or migration the event is about.',
      },
      [KAFKA_HEADERS.ceDataSchema]: {
        type: 'string',
        const: cloudEventDataSchema(type, version),
        description: `Names this message component (${asyncApiMessageId(type, version)}).`,
      },
      [KAFKA_HEADERS.contentType]: { type: 'string', const: 'application/json' },
      [KAFKA_HEADERS.ceCorrelationId]: {
        type: 'string',
        description: 'CloudEvents extension: envelope correlationId.',
      },
      [KAFKA_HEADERS.ceCausationId]: {
        type: 'string',
        description: 'CloudEvents extension: envelope causationId; absent when that is null.',
      },
    },
    required: Object.values(KAFKA_HEADERS).filter(
      (name) => name !== KAFKA_HEADERS.traceparent && name !== KAFKA_HEADERS.ceCausationId,
    ),
  };
}

function messageOf(definition: EventDefinition): AsyncApiMessage {
  const { type, version, topic } = definition;
  return {
    name: type,
    title: `${type} v${version}`,
    summary: definition.description,
    contentType: 'application/json',
    correlationId: {
      description: 'The release, flag or migration this event belongs to.',
      location: '$message.payload#/correlationId',
    },
    headers: headersOf(definition),
    payload: {
      ...ENVELOPE_JSON_SCHEMA,
      required: [...ENVELOPE_JSON_SCHEMA.required],
      properties: {
        ...ENVELOPE_JSON_SCHEMA.properties,
        type: { type: 'string', const: type },
        version: { type: 'integer', const: version },
        data: toJsonSchema(definition.schema),
      },
    },
    bindings: {
      kafka: {
        key: { type: 'string', description: `Envelope key: ${topic.keyDescription}.` },
        bindingVersion: KAFKA_BINDING_VERSION,
      },
    },
  };
}

/** Dead-lettered records keep the original bytes, which may be neither JSON nor a known event. */
const deadLetterMessage: AsyncApiMessage = {
  name: DEAD_LETTER_MESSAGE,
  title: 'Dead-lettered record',
  summary: 'A record that could not be decoded or validated, moved off its topic unchanged.',
  contentType: 'application/octet-stream',
  headers: {
    type: 'object',
    properties: {
      [DEAD_LETTER_HEADERS.reason]: { type: 'string', description: 'Why the record was rejected.' },
      [DEAD_LETTER_HEADERS.source]: {
        type: 'string',
        description: 'Where the record was: topic:partition:offset.',
      },
    },
    required: [DEAD_LETTER_HEADERS.reason, DEAD_LETTER_HEADERS.source],
    additionalProperties: { type: 'string', description: 'The original record headers.' },
  },
  payload: { type: 'string', description: 'The original record value, byte for byte.' },
  bindings: {
    kafka: {
      key: { type: 'string', description: 'The original record key.' },
      bindingVersion: KAFKA_BINDING_VERSION,
    },
  },
};

const ref = (messageId: string): Ref => ({ $ref: `#/components/messages/${messageId}` });

/** AsyncAPI 3.0.0 description of every topic (and its dead-letter topic) and every event version. */
export function buildAsyncApi(catalog: EventCatalog): AsyncApiDocument {
  const definitions = catalog
    .all()
    .sort((a, b) => a.type.localeCompare(b.type) || a.version - b.version);
  // Topics from TOPICS first, then any other topic a catalog's definitions use.
  const topics = new Map<string, TopicDefinition>();
  for (const topic of [...ALL_TOPICS, ...definitions.map((d) => d.topic)]) {
    if (!topics.has(topic.name)) topics.set(topic.name, topic);
  }

  const channels: Record<string, AsyncApiChannel> = {};
  for (const topic of topics.values()) {
    const events = definitions.filter((d) => d.topic.name === topic.name);
    channels[topic.name] = {
      address: topic.name,
      title: topic.name,
      description: `${topic.description} Message key: ${topic.keyDescription}.`,
      messages: Object.fromEntries(
        events.map((d) => {
          const id = asyncApiMessageId(d.type, d.version);
          return [id, ref(id)];
        }),
      ),
      bindings: { kafka: { partitions: topic.partitions, bindingVersion: KAFKA_BINDING_VERSION } },
    };
    const dlq = deadLetterTopicOf(topic.name);
    channels[dlq] = {
      address: dlq,
      title: dlq,
      description: `Dead letters of ${topic.name}: records that failed to decode or validate.`,
      messages: { [DEAD_LETTER_MESSAGE]: ref(DEAD_LETTER_MESSAGE) },
      bindings: { kafka: { bindingVersion: KAFKA_BINDING_VERSION } },
    };
  }

  const messages: Record<string, AsyncApiMessage> = {};
  for (const definition of definitions) {
    messages[asyncApiMessageId(definition.type, definition.version)] = messageOf(definition);
  }
  messages[DEAD_LETTER_MESSAGE] = deadLetterMessage;

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Rollgate events',
      version: CONTRACTS_VERSION,
      description:
        'Every Rollgate event travels in one JSON envelope; `data` follows the JSON Schema of its ' +
        '(type, version). Old versions stay readable: consumers upcast them to the latest. ' +
        'Every record is also a CloudEvent 1.0 in the binary mode of the Kafka protocol binding ' +
        '(`ce_*` headers and `content-type`; the envelope is the data), so CloudEvents SDKs read ' +
        'the topics as they are.',
    },
    defaultContentType: 'application/json',
    channels,
    components: { messages },
  };
}
