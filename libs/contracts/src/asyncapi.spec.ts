import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { asyncApiMessageId, buildAsyncApi } from './asyncapi';
import { EventCatalog } from './catalog';
import type { EventDefinition } from './definition';
import { eventHeaders, KAFKA_HEADERS } from './headers';
import { eventCatalog, PUBLISHED_EVENTS } from './registry';
import { ALL_TOPICS, deadLetterTopicOf } from './topics';

const doc = buildAsyncApi(eventCatalog);

describe('buildAsyncApi', () => {
  it('is an AsyncAPI 3.0.0 document', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('has one channel per topic plus its dead-letter channel, and nothing else', () => {
    const expected = ALL_TOPICS.flatMap((t) => [t.name, deadLetterTopicOf(t.name)]);
    expect(Object.keys(doc.channels).sort()).toEqual(expected.sort());
    for (const topic of ALL_TOPICS) {
      const channel = doc.channels[topic.name]!;
      expect(channel.address).toBe(topic.name);
      expect(channel.bindings.kafka['partitions']).toBe(topic.partitions);
      expect(channel.description).toContain(topic.keyDescription);
      expect(Object.keys(doc.channels[deadLetterTopicOf(topic.name)]!.messages)).toEqual([
        'DeadLetter',
      ]);
    }
  });

  it.each(PUBLISHED_EVENTS.map((d) => [`${d.type}@${d.version}`, d] as const))(
    'describes %s as a message on its topic',
    (_key, definition) => {
      const id = asyncApiMessageId(definition.type, definition.version);
      const message = doc.components.messages[id]!;
      expect(message).toBeDefined();
      expect(doc.channels[definition.topic.name]!.messages[id]).toEqual({
        $ref: `#/components/messages/${id}`,
      });
      expect(message.payload['properties']).toMatchObject({
        type: { const: definition.type },
        version: { const: definition.version },
        data: { type: 'object' },
      });
      expect(message.bindings.kafka.key['description']).toContain(definition.topic.keyDescription);
      expect(Object.keys(message.headers['properties'] as object)).toEqual(
        Object.values(KAFKA_HEADERS),
      );
    },
  );

  it('only references messages that exist', () => {
    const refs = Object.values(doc.channels).flatMap((c) => Object.values(c.messages));
    for (const { $ref } of refs) {
      expect(doc.components.messages[$ref.replace('#/components/messages/', '')]).toBeDefined();
    }
  });

  it('gives payload schemas that accept real events and reject others', () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(doc.components.messages['AnalysisVerdictReached.v1']!.payload);
    const event = eventCatalog.create({
      type: 'AnalysisVerdictReached',
      version: 1,
      actor: 'service:analysis',
      correlationId: 'rel-1',
      causationId: null,
      key: 'checkout',
      data: {
        analysisRunId: 'run-1',
        releaseId: 'rel-1',
        service: 'checkout',
        verdict: 'PASS',
        score: null,
        reasons: [],
      },
    });
    expect(validate(event)).toBe(true);
    expect(validate({ ...event, type: 'ReleaseRequested' })).toBe(false);
    expect(validate({ ...event, data: { ...event.data, verdict: 'MAYBE' } })).toBe(false);
  });

  it('describes the CloudEvents binary-mode headers the adapter writes', () => {
    const ajv = new Ajv({ strict: false });
    addFormats(ajv);
    const message = doc.components.messages['ReleaseSucceeded.v1']!;
    const validate = ajv.compile(message.headers);
    const event = eventCatalog.create({
      type: 'ReleaseSucceeded',
      version: 1,
      actor: 'service:orchestrator',
      correlationId: 'rel-1',
      causationId: '0190d9a0-0000-7000-8000-000000000001',
      key: 'checkout',
      data: { releaseId: 'rel-1', service: 'checkout', reason: 'all steps passed' },
    });
    const headers = eventHeaders(event);
    expect(validate(headers)).toBe(true);
    expect(message.headers['required']).toEqual(
      expect.arrayContaining(['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'content-type']),
    );
    expect(validate({ ...headers, ce_type: 'rollgate.ReleaseAborted' })).toBe(false);
    expect(validate({ ...headers, ce_dataschema: 'urn:rollgate:event:ReleaseSucceeded.v2' })).toBe(
      false,
    );
    const withoutTime: Record<string, string> = { ...headers };
    delete withoutTime['ce_time'];
    expect(validate(withoutTime)).toBe(false);
    expect(doc.info.description).toContain('CloudEvent');
  });

  it('writes plain JSON Schema: no ajv-only `nullable` keyword', () => {
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
    const data = doc.components.messages['AnalysisVerdictReached.v1']!.payload['properties'] as {
      data: { properties: { score: unknown } };
    };
    expect(data.data.properties.score).toMatchObject({ type: ['number', 'null'] });
  });

  it('adds a channel for a topic outside TOPICS', () => {
    const topic = {
      name: 'test.things',
      partitions: 3,
      description: 'Things.',
      keyDescription: 'id',
    };
    const thing = {
      type: 'ThingHappened',
      version: 1,
      topic,
      description: 'A thing happened.',
      schema: { type: 'object', required: [], additionalProperties: false },
    } as unknown as EventDefinition;
    const channels = buildAsyncApi(new EventCatalog([thing])).channels;
    expect(channels['test.things']!.messages).toHaveProperty(['ThingHappened.v1']);
    expect(channels['test.things.dlq']).toBeDefined();
  });

  it('matches the committed docs/asyncapi.yaml (run npm run docs:events)', () => {
    const committed: unknown = parse(
      readFileSync(join(__dirname, '..', '..', '..', 'docs', 'asyncapi.yaml'), 'utf8'),
    );
    expect(committed).toEqual(doc);
  });
});
