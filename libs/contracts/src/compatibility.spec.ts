import { canonicalJson, checkSchemaCompatibility, type PublishedSchema } from './compatibility';

const published: PublishedSchema = {
  type: 'ReleaseRequested',
  version: 1,
  topic: 'rollgate.releases',
  schema: {
    type: 'object',
    properties: {
      releaseId: { type: 'string', minLength: 1 },
      description: { type: 'string' },
      strategy: { type: 'string', enum: ['rolling', 'canary'] },
      artifact: {
        type: 'object',
        properties: {
          name: { type: 'string', maxLength: 256 },
          digest: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$' },
        },
        required: ['name', 'digest'],
        additionalProperties: false,
      },
      weights: { type: 'object', additionalProperties: { type: 'number', maximum: 100 } },
      tags: { type: 'array', items: { type: 'string' } },
      note: { type: 'string' },
    },
    required: ['releaseId', 'description', 'strategy', 'artifact'],
    additionalProperties: false,
  },
};

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Problems after applying `edit` to a deep copy of the published schema. */
function problemsAfter(edit: (schema: Schema, event: PublishedSchema) => void): string[] {
  const current = structuredClone(published);
  edit(current.schema, current);
  return checkSchemaCompatibility(published, current);
}

describe('checkSchemaCompatibility', () => {
  describe('allowed in the same version', () => {
    it('accepts an identical schema', () => {
      expect(problemsAfter(() => {})).toEqual([]);
    });

    it('ignores key order', () => {
      const reordered = JSON.parse(canonicalJson(published.schema));
      expect(checkSchemaCompatibility(published, { ...published, schema: reordered })).toEqual([]);
    });

    it('accepts added and changed descriptions, at any depth', () => {
      const problems = problemsAfter((s) => {
        s['description'] = 'A release was requested.';
        s['properties'].artifact.description = 'The image.';
        s['properties'].weights.additionalProperties.description = 'Percent.';
      });
      expect(problems).toEqual([]);
    });

    it('accepts a new optional property, at any depth', () => {
      const problems = problemsAfter((s) => {
        s['properties'].ticket = { type: 'string' };
        s['properties'].artifact.properties.signature = { type: 'string' };
      });
      expect(problems).toEqual([]);
    });
  });

  describe('problems', () => {
    const cases: [string, (schema: Schema, event: PublishedSchema) => void, string][] = [
      [
        'removing a property',
        (s) => delete s['properties'].note,
        'ReleaseRequested@1: data.note: property removed',
      ],
      [
        'removing a nested property',
        (s) => {
          delete s['properties'].artifact.properties.name;
          s['properties'].artifact.required = ['digest'];
        },
        'ReleaseRequested@1: data.artifact.name: property removed',
      ],
      [
        'removing a property named like an annotation',
        (s) => {
          delete s['properties'].description;
          s['required'] = ['releaseId', 'strategy', 'artifact'];
        },
        'ReleaseRequested@1: data.description: property removed',
      ],
      [
        'changing a type',
        (s) => (s['properties'].releaseId.type = 'integer'),
        'ReleaseRequested@1: data.releaseId: type changed from "string" to "integer"',
      ],
      [
        'adding a required property',
        (s) => {
          s['properties'].owner = { type: 'string' };
          s['required'].push('owner');
        },
        'ReleaseRequested@1: data.owner: required property added',
      ],
      [
        'making an optional property required',
        (s) => s['required'].push('note'),
        'ReleaseRequested@1: data.note: became required',
      ],
      [
        'making a required property optional',
        (s) => (s['required'] = ['releaseId', 'description', 'strategy']),
        'ReleaseRequested@1: data.artifact: no longer required',
      ],
      [
        'removing an enum value',
        (s) => (s['properties'].strategy.enum = ['rolling']),
        'ReleaseRequested@1: data.strategy: enum values removed: "canary"',
      ],
      [
        'adding an enum value',
        (s) => s['properties'].strategy.enum.push('blue-green'),
        'ReleaseRequested@1: data.strategy: enum values added: "blue-green"',
      ],
      [
        'changing a pattern',
        (s) => (s['properties'].artifact.properties.digest.pattern = '^sha256:'),
        'ReleaseRequested@1: data.artifact.digest: pattern changed from "^sha256:[a-f0-9]{64}$" to "^sha256:"',
      ],
      [
        'changing a minimum length',
        (s) => (s['properties'].releaseId.minLength = 2),
        'ReleaseRequested@1: data.releaseId: minLength changed from 1 to 2',
      ],
      [
        'removing a maximum length',
        (s) => delete s['properties'].artifact.properties.name.maxLength,
        'ReleaseRequested@1: data.artifact.name: maxLength removed (was 256)',
      ],
      [
        'adding a format',
        (s) => (s['properties'].note.format = 'uri'),
        'ReleaseRequested@1: data.note: format added ("uri")',
      ],
      [
        'allowing additional properties',
        (s) => (s['properties'].artifact.additionalProperties = true),
        'ReleaseRequested@1: data.artifact: additionalProperties changed from false to true',
      ],
      [
        'dropping additionalProperties: false',
        (s) => delete s['additionalProperties'],
        'ReleaseRequested@1: data: additionalProperties removed (was false)',
      ],
      [
        'changing an additionalProperties schema',
        (s) => (s['properties'].weights.additionalProperties.maximum = 1),
        'ReleaseRequested@1: data.weights.*: maximum changed from 100 to 1',
      ],
      [
        'changing array items',
        (s) => (s['properties'].tags.items.type = 'number'),
        'ReleaseRequested@1: data.tags[]: type changed from "string" to "number"',
      ],
      [
        'moving the event to another topic',
        (_s, event) => (event.topic = 'rollgate.other'),
        'ReleaseRequested@1: topic changed from rollgate.releases to rollgate.other',
      ],
    ];

    it.each(cases)('reports %s', (_name, edit, problem) => {
      expect(problemsAfter(edit)).toEqual([problem]);
    });

    it('reports every problem, not only the first', () => {
      const problems = problemsAfter((s) => {
        delete s['properties'].note;
        s['properties'].releaseId.type = 'integer';
      });
      expect(problems).toEqual([
        'ReleaseRequested@1: data.note: property removed',
        'ReleaseRequested@1: data.releaseId: type changed from "string" to "integer"',
      ]);
    });

    it('refuses to compare two different events', () => {
      expect(checkSchemaCompatibility(published, { ...published, version: 2 })).toEqual([
        'ReleaseRequested@1: compared with a different event, ReleaseRequested@2',
      ]);
    });
  });
});
