import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { v7 as uuidv7 } from 'uuid';
import type { EventDefinition, Upcaster } from './definition';
import type { EventEnvelope, NewEvent } from './envelope';
import { hasOnlyEnvelopeFields, isCommonValidEnvelope } from './envelope-check';
import { EventValidationError } from './errors';

const envelopeSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string', minLength: 1 },
    version: { type: 'integer', minimum: 1 },
    occurredAt: { type: 'string', format: 'date-time' },
    actor: { type: 'string', minLength: 1 },
    correlationId: { type: 'string', minLength: 1 },
    causationId: { type: ['string', 'null'] },
    key: { type: 'string', minLength: 1 },
    sequence: { type: 'integer', minimum: 1 },
    data: {},
  },
  required: [
    'id',
    'type',
    'version',
    'occurredAt',
    'actor',
    'correlationId',
    'causationId',
    'key',
    'data',
  ],
  additionalProperties: false,
} as const;

export const ENVELOPE_JSON_SCHEMA = envelopeSchema;

function definitionKey(type: string, version: number): string {
  return `${type}@${version}`;
}

function firstError(errors: ErrorObject[] | null | undefined, prefix: string): [string, string] {
  const error = errors?.[0];
  if (!error) return [prefix, 'is invalid'];
  const path = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'required') path.push(String(error.params['missingProperty']));
  if (error.keyword === 'additionalProperties')
    path.push(String(error.params['additionalProperty']));
  const field = [prefix, ...path].filter(Boolean).join('.');
  const problem =
    error.keyword === 'required'
      ? 'is required'
      : error.keyword === 'additionalProperties'
        ? 'is not allowed'
        : (error.message ?? 'is invalid');
  return [field, problem];
}

/**
 * Every published event (type, version), with validation and upcasting to the latest version.
 * Consumers always see the latest version; old versions stay readable forever.
 */
export class EventCatalog {
  private readonly ajv = new Ajv({ allErrors: false, strict: true });
  private readonly validateEnvelopeShape: ValidateFunction;
  private readonly definitions = new Map<string, EventDefinition>();
  private readonly definitionsByType = new Map<string, Map<number, EventDefinition>>();
  /** By type, then version: no `type@version` string is built per event on the hot path. */
  private readonly validators = new Map<string, Map<number, ValidateFunction>>();
  private readonly latest = new Map<string, number>();
  private readonly upcasters = new Map<string, Upcaster>();

  constructor(definitions: readonly EventDefinition[], upcasters: readonly Upcaster[] = []) {
    // fast mode: simpler format regexes; decoding runs on every consumed event.
    addFormats(this.ajv, { mode: 'fast', formats: ['uuid', 'date-time'] });
    this.validateEnvelopeShape = this.ajv.compile(envelopeSchema);
    for (const definition of definitions) {
      const key = definitionKey(definition.type, definition.version);
      if (this.definitions.has(key)) throw new Error(`duplicate event definition ${key}`);
      this.definitions.set(key, definition);
      const definitions = this.definitionsByType.get(definition.type) ?? new Map();
      definitions.set(definition.version, definition);
      this.definitionsByType.set(definition.type, definitions);
      const byVersion = this.validators.get(definition.type) ?? new Map<number, ValidateFunction>();
      byVersion.set(definition.version, this.ajv.compile(definition.schema));
      this.validators.set(definition.type, byVersion);
      this.latest.set(
        definition.type,
        Math.max(this.latest.get(definition.type) ?? 0, definition.version),
      );
    }
    for (const upcaster of upcasters) {
      this.upcasters.set(definitionKey(upcaster.type, upcaster.fromVersion), upcaster);
    }
    for (const [type, latest] of this.latest) {
      for (let version = 1; version < latest; version++) {
        if (
          this.definitions.has(definitionKey(type, version)) &&
          !this.upcasters.has(definitionKey(type, version))
        ) {
          throw new Error(`${type}@${version} has no upcaster to version ${version + 1}`);
        }
      }
    }
  }

  all(): EventDefinition[] {
    return [...this.definitions.values()];
  }

  definition(type: string, version: number): EventDefinition | undefined {
    return this.definitionsByType.get(type)?.get(version);
  }

  latestVersion(type: string): number | undefined {
    return this.latest.get(type);
  }

  /** Fills id (UUIDv7) and occurredAt, then validates. Throws EventValidationError naming the field. */
  create<TData>(event: NewEvent<TData>, now: () => Date = () => new Date()): EventEnvelope<TData> {
    const id = event.id ?? uuidv7();
    const occurredAt = event.occurredAt ?? now().toISOString();
    // Built field by field (a spread costs more than validating); an input with other fields
    // is spread instead, so validation names the field that is not allowed. Either shape is
    // checked by validate() below before it is returned as an envelope.
    const envelope: unknown = hasOnlyEnvelopeFields(event)
      ? envelopeOf(event, id, occurredAt)
      : { ...event, id, occurredAt };
    this.validate(envelope);
    return envelope as EventEnvelope<TData>;
  }

  /** Throws EventValidationError unless the envelope and its data match the contract. */
  validate(envelope: unknown): asserts envelope is EventEnvelope {
    // Fast path for the common shape; anything else (valid or not) is decided by ajv below.
    if (isCommonValidEnvelope(envelope)) {
      const { type, version, data } = envelope as EventEnvelope;
      if (this.validators.get(type)?.get(version)?.(data)) return;
    }
    this.validateWithErrors(envelope);
  }

  private validateWithErrors(envelope: unknown): void {
    const type =
      typeof envelope === 'object' &&
      envelope !== null &&
      typeof (envelope as { type?: unknown }).type === 'string'
        ? (envelope as { type: string }).type
        : undefined;
    if (!this.validateEnvelopeShape(envelope)) {
      const [field, problem] = firstError(this.validateEnvelopeShape.errors, '');
      throw new EventValidationError(field, problem, type);
    }
    const { version } = envelope as EventEnvelope;
    const validator = this.validators.get(type!)?.get(version);
    if (!validator) {
      throw new EventValidationError(
        'type',
        `has no published schema for ${type}@${version}`,
        type,
      );
    }
    if (!validator((envelope as EventEnvelope).data)) {
      const [field, problem] = firstError(validator.errors, 'data');
      throw new EventValidationError(field, problem, type);
    }
  }

  /** Raises an event of any published version to the latest version of its type. */
  upcast(envelope: EventEnvelope): EventEnvelope {
    let current = envelope;
    const latest = this.latest.get(envelope.type) ?? envelope.version;
    while (current.version < latest) {
      const upcaster = this.upcasters.get(definitionKey(current.type, current.version));
      if (!upcaster) throw new Error(`no upcaster for ${current.type}@${current.version}`);
      current = { ...current, version: current.version + 1, data: upcaster.upcast(current.data) };
    }
    return current;
  }

  /** Decodes bytes from the log: JSON, contract, then upcast. Throws EventValidationError or SyntaxError. */
  decode(raw: string | Buffer): EventEnvelope {
    const parsed: unknown = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
    this.validate(parsed);
    const latest = this.upcast(parsed);
    // An upcaster is code: check that what it produced is a valid latest-version event.
    if (latest !== parsed) this.validate(latest);
    return latest;
  }

  encode(envelope: EventEnvelope): string {
    return JSON.stringify(envelope);
  }
}

/** The envelope's fields in their fixed order (`sequence` only when given, before `data`). */
function envelopeOf(event: NewEvent, id: string, occurredAt: string): Record<string, unknown> {
  const envelope: Record<string, unknown> = {
    id,
    type: event.type,
    version: event.version,
    occurredAt,
    actor: event.actor,
    correlationId: event.correlationId,
    causationId: event.causationId,
    key: event.key,
  };
  if (event.sequence !== undefined) envelope['sequence'] = event.sequence;
  envelope['data'] = event.data;
  return envelope;
}
