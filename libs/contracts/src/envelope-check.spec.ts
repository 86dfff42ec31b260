import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { ENVELOPE_JSON_SCHEMA } from './catalog';
import { isCanonicalUuid, isCommonValidEnvelope, isIsoInstant } from './envelope-check';

// The envelope validator exactly as the catalog builds it.
const ajv = new Ajv({ allErrors: false, strict: true });
addFormats(ajv, { mode: 'fast', formats: ['uuid', 'date-time'] });
const envelopeSchema = ajv.compile(ENVELOPE_JSON_SCHEMA);

const UUID = '019a0000-0000-7000-8000-00000000abcd';
const AT = '2026-03-01T12:34:56.789Z';

function valid(): Record<string, unknown> {
  return {
    id: UUID,
    type: 'ReleaseRequested',
    version: 1,
    occurredAt: AT,
    actor: 'user:alice',
    correlationId: 'rel-1',
    causationId: null,
    key: 'checkout',
    data: { any: 'thing' },
  };
}

/** Strings near the formats: one character changed, cut short, or made longer. */
function near(base: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(base),
    fc
      .tuple(fc.nat(base.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, c]) => base.slice(0, i) + c + base.slice(i + 1)),
    fc.nat(base.length).map((n) => base.slice(0, n)),
    fc.string({ maxLength: 3 }).map((extra) => base + extra),
    fc.constant(base.toUpperCase()),
  );
}

const anyValue = fc.oneof(
  fc.string(),
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
);

const fieldValues: Record<string, fc.Arbitrary<unknown>> = {
  id: fc.oneof(near(UUID), fc.uuid(), fc.constant(`urn:uuid:${UUID}`), anyValue),
  type: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
  version: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.constant(1.5), anyValue),
  occurredAt: fc.oneof(
    near(AT),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.constant('2026-03-01T12:34:56+01:00'),
    anyValue,
  ),
  actor: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
  correlationId: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
  causationId: anyValue,
  key: fc.oneof(fc.string({ maxLength: 3 }), anyValue),
  sequence: fc.oneof(fc.integer({ min: -1, max: 3 }), anyValue),
  data: anyValue,
};

/** A valid envelope with some fields replaced, removed or added. */
const envelopes = fc
  .tuple(
    fc.subarray(Object.keys(fieldValues)),
    fc.subarray(Object.keys(fieldValues)),
    fc.option(fc.string({ minLength: 1, maxLength: 5 }), { nil: undefined }),
  )
  .chain(([replaced, removed, extra]) =>
    fc.record(Object.fromEntries(replaced.map((k) => [k, fieldValues[k]!]))).map((values) => {
      const envelope: Record<string, unknown> = { ...valid(), ...values };
      for (const key of removed) delete envelope[key];
      if (extra !== undefined) envelope[extra] = 'x';
      return envelope;
    }),
  );

describe('isCommonValidEnvelope (fast path of envelope validation)', () => {
  it('accepts only envelopes the envelope schema accepts', () => {
    fc.assert(
      fc.property(envelopes, (envelope) => {
        if (isCommonValidEnvelope(envelope)) expect(envelopeSchema(envelope)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('accepts the envelopes the catalog creates, so the fast path is the common path', () => {
    fc.assert(
      fc.property(fc.date({ noInvalidDate: true }), fc.integer({ min: 1, max: 1e9 }), (d, seq) => {
        const created = {
          ...valid(),
          id: randomUUID(),
          occurredAt: d.toISOString(),
          sequence: seq,
        };
        // Years beyond 9999 are written with six digits and a sign: those go to ajv.
        const common = d.getUTCFullYear() >= 0 && d.getUTCFullYear() <= 9999;
        expect(isCommonValidEnvelope(created)).toBe(common);
        expect(envelopeSchema(created)).toBe(common);
      }),
    );
  });

  it('leaves the rarer valid forms to ajv', () => {
    expect(isCanonicalUuid(`urn:uuid:${UUID}`)).toBe(false);
    expect(envelopeSchema({ ...valid(), id: `urn:uuid:${UUID}` })).toBe(true);
    expect(isIsoInstant('2026-03-01T12:34:56+01:00')).toBe(false);
    expect(envelopeSchema({ ...valid(), occurredAt: '2026-03-01T12:34:56+01:00' })).toBe(true);
  });

  it('rejects what the schema rejects in the common shape', () => {
    expect(isCommonValidEnvelope(valid())).toBe(true);
    expect(isCommonValidEnvelope({ ...valid(), extra: 1 })).toBe(false);
    expect(isCommonValidEnvelope({ ...valid(), key: '' })).toBe(false);
    expect(isCommonValidEnvelope({ ...valid(), version: 0 })).toBe(false);
    expect(isCommonValidEnvelope({ ...valid(), sequence: 0 })).toBe(false);
    expect(isCommonValidEnvelope({ ...valid(), causationId: undefined })).toBe(false);
    expect(isCommonValidEnvelope({ ...valid(), data: undefined })).toBe(false);
  });
});
