import fc from 'fast-check';
import { EventCatalog } from './catalog';
import {
  defineEvent,
  DIGEST_PATTERN,
  SERVICE_NAME_PATTERN,
  type EventDefinition,
} from './definition';
import type { NewEvent } from './envelope';
import { EventValidationError } from './errors';
import { ReleaseRequestedV1 } from './events/releases';
import { eventCatalog } from './registry';
import type { TopicDefinition } from './topics';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

function releaseRequested(overrides: Partial<NewEvent<ReleaseRequestedV1>> = {}) {
  return {
    type: 'ReleaseRequested',
    version: 1,
    actor: 'user:alice',
    correlationId: 'rel-1',
    causationId: null,
    key: 'checkout',
    data: {
      releaseId: 'rel-1',
      service: 'checkout',
      artifact: { name: 'registry.local/checkout', digest: DIGEST },
      strategy: 'canary',
    },
    ...overrides,
  } satisfies NewEvent<ReleaseRequestedV1>;
}

/** Runs `fn` and returns what it threw. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('EventCatalog', () => {
  describe('create', () => {
    it('fills a UUIDv7 id and occurredAt from the clock', () => {
      const now = new Date('2025-01-02T03:04:05.678Z');
      const event = eventCatalog.create(releaseRequested(), () => now);
      expect(event.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(event.occurredAt).toBe('2025-01-02T03:04:05.678Z');
      expect(eventCatalog.create(releaseRequested()).id).not.toBe(event.id);
    });

    it('keeps a given id and occurredAt', () => {
      const id = '01890a5d-ac96-774b-bcce-b302099a8057';
      const event = eventCatalog.create(
        releaseRequested({ id, occurredAt: '2024-06-01T00:00:00.000Z' }),
      );
      expect(event).toMatchObject({ id, occurredAt: '2024-06-01T00:00:00.000Z' });
    });

    it('refuses a moving tag where a digest belongs, naming the field', () => {
      const event = releaseRequested();
      event.data.artifact.digest = 'latest';
      const error = thrownBy(() => eventCatalog.create(event));
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ field: 'data.artifact.digest', eventType: 'ReleaseRequested' });
    });

    it('names a missing envelope field', () => {
      const withoutActor: Partial<NewEvent> = releaseRequested();
      delete withoutActor.actor;
      const error = thrownBy(() => eventCatalog.create(withoutActor as NewEvent));
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ field: 'actor', problem: 'is required' });
    });

    it('names an unexpected data field', () => {
      const event = releaseRequested();
      const error = thrownBy(() =>
        eventCatalog.create({ ...event, data: { ...event.data, tag: 'latest' } }),
      );
      expect(error).toMatchObject({ field: 'data.tag', problem: 'is not allowed' });
    });

    it.each([
      ['an unknown type', { type: 'ReleaseExploded' }],
      ['an unknown version', { version: 99 }],
    ])('refuses %s', (_name, overrides) => {
      const error = thrownBy(() => eventCatalog.create(releaseRequested(overrides)));
      expect(error).toBeInstanceOf(EventValidationError);
      expect(error).toMatchObject({ field: 'type' });
    });

    it('refuses any digest that is not sha256 hex', () => {
      const notADigest = fc.string().filter((s) => !new RegExp(DIGEST_PATTERN).test(s));
      fc.assert(
        fc.property(notADigest, (digest) => {
          const event = releaseRequested();
          event.data.artifact.digest = digest;
          const error = thrownBy(() => eventCatalog.create(event));
          expect(error).toMatchObject({ field: 'data.artifact.digest' });
        }),
      );
    });
  });

  describe('decode', () => {
    it('throws on a message that is not JSON', () => {
      expect(() => eventCatalog.decode('{"type": "ReleaseRequested"')).toThrow(SyntaxError);
    });

    it('validates what it decodes', () => {
      const raw = JSON.stringify({ ...eventCatalog.create(releaseRequested()), key: '' });
      expect(() => eventCatalog.decode(Buffer.from(raw))).toThrow(EventValidationError);
    });

    it('round-trips every valid ReleaseRequested through encode and decode', () => {
      const text = fc.string({ minLength: 1, unit: 'grapheme' });
      // Plain prototypes, so toStrictEqual compares like with like.
      const plain = { noNullPrototype: true };
      const newEvent = fc.record(
        {
          type: fc.constant('ReleaseRequested'),
          // The latest version: decode upcasts older ones, so only the latest comes back as sent.
          version: fc.constant(eventCatalog.latestVersion('ReleaseRequested')!),
          actor: text,
          correlationId: text,
          causationId: fc.option(fc.string(), { nil: null }),
          key: text,
          occurredAt: fc
            .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
            .map((d) => d.toISOString()),
          data: fc.record(
            {
              releaseId: text,
              service: fc.stringMatching(new RegExp(SERVICE_NAME_PATTERN)),
              artifact: fc.record(
                {
                  name: fc.string({ minLength: 1, maxLength: 256 }),
                  digest: fc.stringMatching(new RegExp(DIGEST_PATTERN)),
                },
                plain,
              ),
              strategy: fc.constantFrom(
                'rolling' as const,
                'blue-green' as const,
                'canary' as const,
              ),
            },
            plain,
          ),
        },
        plain,
      );
      const withSequence = fc
        .tuple(newEvent, fc.option(fc.integer({ min: 1 }), { nil: undefined }))
        .map(([event, sequence]) => (sequence === undefined ? event : { ...event, sequence }));

      fc.assert(
        fc.property(withSequence, (event) => {
          const created = eventCatalog.create(event);
          expect(eventCatalog.decode(eventCatalog.encode(created))).toStrictEqual(created);
        }),
      );
    });
  });

  describe('upcasting', () => {
    it('reads a v1 ReleaseRequested as v2, where a rolling plan may replace in place (maxSurge 0)', () => {
      const plan = {
        replicas: 3,
        canarySteps: [10],
        stepSeconds: 60,
        maxSurge: 1,
        maxUnavailable: 0,
        marginalTimeoutSeconds: 600,
        warmSeconds: 0,
      };
      const v1 = eventCatalog.create(
        releaseRequested({ data: { ...releaseRequested().data, plan } }),
      );
      expect(eventCatalog.decode(JSON.stringify(v1))).toMatchObject({ version: 2, data: { plan } });
      const inPlace = { ...plan, maxSurge: 0, maxUnavailable: 1 };
      const data = { ...releaseRequested().data, plan: inPlace };
      expect(eventCatalog.create(releaseRequested({ version: 2, data })).data).toMatchObject({
        plan: inPlace,
      });
      expect(thrownBy(() => eventCatalog.create(releaseRequested({ data })))).toMatchObject({
        field: 'data.plan.maxSurge',
      });
    });

    const topic: TopicDefinition = {
      name: 'test.things',
      partitions: 1,
      description: 'Things, for tests.',
      keyDescription: 'thing id',
    };
    // v1 had one free-text label; v2 splits it into a title and tags.
    const thingV1 = defineEvent<{ label: string }>({
      type: 'ThingHappened',
      version: 1,
      topic,
      description: 'v1',
      schema: {
        type: 'object',
        properties: { label: { type: 'string' } },
        required: ['label'],
        additionalProperties: false,
      },
    });
    const thingV2 = defineEvent<{ title: string; tags: string[] }>({
      type: 'ThingHappened',
      version: 2,
      topic,
      description: 'v2',
      schema: {
        type: 'object',
        properties: {
          title: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
        },
        required: ['title', 'tags'],
        additionalProperties: false,
      },
    });
    const things = [thingV1, thingV2] as EventDefinition[];
    const upcaster = {
      type: 'ThingHappened',
      fromVersion: 1,
      upcast: (data: unknown) => {
        const [title, ...tags] = (data as { label: string }).label.split('#');
        return { title, tags };
      },
    };
    const envelope = (version: number, data: unknown) =>
      JSON.stringify({
        id: '01890a5d-ac96-774b-bcce-b302099a8057',
        type: 'ThingHappened',
        version,
        occurredAt: '2024-06-01T00:00:00.000Z',
        actor: 'user:alice',
        correlationId: 'thing-1',
        causationId: null,
        key: 'thing-1',
        data,
      });

    it('decodes an old version as the latest one', () => {
      const catalog = new EventCatalog(things, [upcaster]);
      const decoded = catalog.decode(envelope(1, { label: 'lamp#red#new' }));
      expect(decoded).toMatchObject({ version: 2, data: { title: 'lamp', tags: ['red', 'new'] } });
      expect(catalog.latestVersion('ThingHappened')).toBe(2);
    });

    it('decodes the latest version unchanged', () => {
      const catalog = new EventCatalog(things, [upcaster]);
      const data = { title: 'lamp', tags: [] };
      expect(catalog.decode(envelope(2, data))).toMatchObject({ version: 2, data });
    });

    it('validates an old version against its own schema', () => {
      const catalog = new EventCatalog(things, [upcaster]);
      const error = thrownBy(() => catalog.decode(envelope(1, { title: 'lamp', tags: [] })));
      expect(error).toMatchObject({ field: 'data.label', problem: 'is required' });
    });

    it('refuses a catalog with a v2 but no upcaster from v1', () => {
      expect(() => new EventCatalog(things)).toThrow(
        'ThingHappened@1 has no upcaster to version 2',
      );
    });
  });

  it('refuses two definitions of the same version', () => {
    expect(
      () => new EventCatalog([ReleaseRequestedV1, ReleaseRequestedV1] as EventDefinition[]),
    ).toThrow('duplicate event definition ReleaseRequested@1');
  });
});
