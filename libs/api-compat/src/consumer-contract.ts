import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';
import {
  HTTP_METHODS,
  JSON_TYPES,
  LIMITS,
  valueText,
  type ConsumedField,
  type ConsumedOperation,
  type ConsumerContract,
  type InputProblem,
  type JsonType,
  type Parsed,
} from './model';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const SERVICE = new RegExp(SERVICE_NAME_PATTERN);

export interface ParsedContract {
  format: 'pact' | 'rollgate';
  contract: ConsumerContract;
}

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  // An example 12 says "a number", not "never 12.5": integer and number are one family here.
  return typeof value === 'number' ? 'number' : (typeof value as JsonType);
}

/**
 * The fields of an example body, as a Pact interaction shows it: `total`, `items[].sku`, each
 * with the type of its example (and, for what is sent, the value itself).
 */
function exampleFields(body: unknown, withValues: boolean): ConsumedField[] {
  const fields = new Map<string, ConsumedField>();
  const visit = (value: unknown, prefix: string, depth: number) => {
    if (depth > LIMITS.depth || fields.size >= LIMITS.fieldsPerUse) return;
    if (prefix && !fields.has(prefix)) {
      const field: ConsumedField = { field: prefix, type: jsonType(value) };
      if (withValues && (value === null || typeof value !== 'object'))
        field.value = valueText(value);
      fields.set(prefix, field);
    }
    if (Array.isArray(value)) {
      for (const item of value.slice(0, 10)) visit(item, `${prefix}[]`, depth + 1);
    } else if (isObject(value)) {
      for (const [name, inner] of Object.entries(value)) {
        const path = prefix ? `${prefix}.${name}` : name;
        if (path.length <= LIMITS.fieldName) visit(inner, path, depth + 1);
      }
    }
  };
  visit(body, '', 0);
  return [...fields.values()];
}

function method(value: unknown, field: string, problems: InputProblem[]): string {
  const upper = typeof value === 'string' ? value.toUpperCase() : '';
  if (!(HTTP_METHODS as readonly string[]).includes(upper))
    problems.push({ field, problem: `must be an HTTP method (${HTTP_METHODS.join(', ')})` });
  return upper;
}

function path(value: unknown, field: string, problems: InputProblem[]): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.length > LIMITS.path) {
    problems.push({
      field,
      problem: `must be a path starting with / (at most ${LIMITS.path} characters)`,
    });
    return '/';
  }
  return value.split('?')[0]!;
}

function service(value: unknown, field: string, problems: InputProblem[]): string {
  if (typeof value !== 'string' || !SERVICE.test(value))
    problems.push({ field, problem: 'must be a service name such as "orders"' });
  return String(value);
}

/** `{field, type?}` or a bare name, as Rollgate's own contract format lists fields. */
function declaredFields(value: unknown, field: string, problems: InputProblem[]): ConsumedField[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > LIMITS.fieldsPerUse) {
    problems.push({ field, problem: `must be a list of at most ${LIMITS.fieldsPerUse} fields` });
    return [];
  }
  return value.flatMap((item, i): ConsumedField[] => {
    const entry = typeof item === 'string' ? { field: item } : item;
    const name = isObject(entry) ? entry['field'] : undefined;
    if (typeof name !== 'string' || name.length === 0 || name.length > LIMITS.fieldName) {
      problems.push({
        field: `${field}[${i}]`,
        problem: `must be a field name (at most ${LIMITS.fieldName} characters) or {field, type}`,
      });
      return [];
    }
    const type = (entry as Json)['type'];
    if (type === undefined) return [{ field: name }];
    if (!(JSON_TYPES as readonly unknown[]).includes(type)) {
      problems.push({
        field: `${field}[${i}].type`,
        problem: `must be one of ${JSON_TYPES.join(', ')}`,
      });
      return [];
    }
    return [{ field: name, type: type as string }];
  });
}

function parseRollgate(input: Json, problems: InputProblem[]): ConsumerContract {
  const uses = input['uses'];
  if (!Array.isArray(uses) || uses.length > LIMITS.uses) {
    problems.push({
      field: 'uses',
      problem: `must be a list of at most ${LIMITS.uses} operations`,
    });
    return { uses: [] };
  }
  return {
    uses: uses.map((use, i): ConsumedOperation => {
      const at = `uses[${i}]`;
      const entry = isObject(use) ? use : {};
      return {
        service: service(entry['service'], `${at}.service`, problems),
        method: method(entry['method'], `${at}.method`, problems),
        path: path(entry['path'], `${at}.path`, problems),
        sends: declaredFields(entry['sends'], `${at}.sends`, problems),
        reads: declaredFields(entry['reads'], `${at}.reads`, problems),
      };
    }),
  };
}

/** Pact v4 wraps bodies as {content, contentType}; v2 and v3 give the body itself. */
function pactBody(body: unknown, v4: boolean): unknown {
  return v4 && isObject(body) && 'content' in body ? body['content'] : body;
}

function pactQuery(query: unknown): string[] {
  if (typeof query === 'string')
    return query
      .split('&')
      .map((pair) => pair.split('=')[0]!)
      .filter(Boolean);
  return isObject(query) ? Object.keys(query) : [];
}

/**
 * A Pact file as a consumer contract: its provider is the service called; every interaction is
 * one use. What a 2xx response body shows is what the consumer reads; other answers (a 404 the
 * consumer expects) only say that the operation is called.
 */
function parsePact(input: Json, problems: InputProblem[]): ConsumerContract {
  const provider = service(
    (input['provider'] as Json | undefined)?.['name'],
    'provider.name',
    problems,
  );
  const interactions = input['interactions'] as unknown[];
  if (interactions.length > LIMITS.uses)
    problems.push({ field: 'interactions', problem: `has more than ${LIMITS.uses} interactions` });
  const version = (input['metadata'] as Json | undefined)?.['pactSpecification'];
  const v4 = String((version as Json | undefined)?.['version'] ?? '').startsWith('4');
  const uses = interactions.slice(0, LIMITS.uses).map((interaction, i): ConsumedOperation => {
    const at = `interactions[${i}]`;
    const entry = isObject(interaction) ? interaction : {};
    const request = isObject(entry['request']) ? entry['request'] : {};
    const response = isObject(entry['response']) ? entry['response'] : {};
    const status = Number(response['status'] ?? 200);
    const headers = isObject(request['headers']) ? Object.keys(request['headers']) : [];
    return {
      service: provider,
      method: method(request['method'], `${at}.request.method`, problems),
      path: path(request['path'], `${at}.request.path`, problems),
      sends: [
        ...exampleFields(pactBody(request['body'], v4), true),
        ...pactQuery(request['query']).map((name) => ({ field: `query:${name}` })),
        ...headers.map((name) => ({ field: `header:${name.toLowerCase()}` })),
      ].slice(0, LIMITS.fieldsPerUse),
      reads:
        status >= 200 && status < 300 ? exampleFields(pactBody(response['body'], v4), false) : [],
    };
  });
  return { uses };
}

/**
 * What a build consumes, from Rollgate's contract format (`{uses: [{service, method, path, sends,
 * reads}]}`) or a Pact file (`{consumer, provider, interactions}`). Every problem names its field.
 */
export function parseConsumerContract(input: unknown): Parsed<ParsedContract> {
  if (!isObject(input))
    return { ok: false, problems: [{ field: '', problem: 'must be a JSON object' }] };
  const problems: InputProblem[] = [];
  const format = Array.isArray(input['interactions']) ? 'pact' : 'rollgate';
  const contract = format === 'pact' ? parsePact(input, problems) : parseRollgate(input, problems);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { format, contract } };
}
