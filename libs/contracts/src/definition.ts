import type { JSONSchemaType } from 'ajv';
import type { TopicDefinition } from './topics';

/**
 * One published (type, version): its topic and the JSON Schema of its `data`.
 * `JSONSchemaType<T>` makes the compiler check the schema against the TypeScript type.
 */
export interface EventDefinition<TData = unknown, TType extends string = string> {
  type: TType;
  version: number;
  topic: TopicDefinition;
  description: string;
  schema: JSONSchemaType<TData>;
}

export function defineEvent<TData, TType extends string = string>(
  definition: EventDefinition<TData, TType>,
): EventDefinition<TData, TType> {
  return definition;
}

/** Turns `data` of (type, fromVersion) into `data` of (type, fromVersion + 1). Pure. */
export interface Upcaster {
  type: string;
  fromVersion: number;
  upcast(data: unknown): unknown;
}

/** A digest-pinned artifact (invariant 8): never a moving tag. */
export interface ArtifactRef {
  name: string;
  digest: string;
  /** Feature flags this build reads: the flag enablement guard checks live builds against it. */
  flags?: string[];
  /**
   * Digests of the API documents this build declares (stored by `ApiDocumentStored`): the API it
   * provides and the operations it consumes. The API compatibility gate checks live builds with them.
   */
  api?: { provides?: string; consumes?: string };
}

export const DIGEST_PATTERN = '^sha256:[a-f0-9]{64}$';

export const artifactSchema: JSONSchemaType<ArtifactRef> = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    digest: { type: 'string', pattern: DIGEST_PATTERN },
    flags: {
      type: 'array',
      items: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$' },
      maxItems: 500,
      nullable: true,
    },
    api: {
      type: 'object',
      properties: {
        provides: { type: 'string', pattern: DIGEST_PATTERN, nullable: true },
        consumes: { type: 'string', pattern: DIGEST_PATTERN, nullable: true },
      },
      required: [],
      additionalProperties: false,
      nullable: true,
    },
  },
  required: ['name', 'digest'],
  additionalProperties: false,
};

export const SERVICE_NAME_PATTERN = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

/** Instance groups a route table can weigh: the current version, a same-age baseline, the new one. */
export type VersionGroup = 'stable' | 'baseline' | 'canary' | 'blue' | 'green';
export const VERSION_GROUPS: readonly VersionGroup[] = [
  'stable',
  'baseline',
  'canary',
  'blue',
  'green',
];
