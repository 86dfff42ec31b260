import {
  HTTP_METHODS,
  JSON_TYPES,
  LIMITS,
  valueText,
  type ApiField,
  type JsonType,
  type Parsed,
  type ProvidedApi,
  type ProvidedOperation,
} from './model';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The JSON types a schema allows; empty when it says nothing (any type). */
function typesOf(schema: Json): JsonType[] {
  const declared = Array.isArray(schema['type']) ? schema['type'] : [schema['type']];
  const types = new Set(
    declared.filter((t): t is JsonType => (JSON_TYPES as readonly unknown[]).includes(t)),
  );
  if (types.size === 0 && isObject(schema['properties'])) types.add('object');
  if (types.size === 0 && schema['items'] !== undefined) types.add('array');
  if (types.size > 0 && schema['nullable'] === true) types.add('null');
  return [...types].sort();
}

function enumOf(schema: Json): string[] | undefined {
  if (Array.isArray(schema['enum']))
    return [...new Set(schema['enum'].slice(0, LIMITS.enumValues).map(valueText))].sort();
  if (schema['const'] !== undefined) return [valueText(schema['const'])];
  return undefined;
}

/** Two shapes of the same field from different branches (oneOf/anyOf, or several responses). */
function union(a: ApiField, b: ApiField): ApiField {
  const anyType = a.types.length === 0 || b.types.length === 0;
  const merged: ApiField = {
    field: a.field,
    types: anyType ? [] : [...new Set([...a.types, ...b.types])].sort(),
  };
  if (a.enum && b.enum) merged.enum = [...new Set([...a.enum, ...b.enum])].sort();
  if (a.required && b.required) merged.required = true;
  if (a.open || b.open) merged.open = true;
  return merged;
}

/** allOf: every branch applies, so the narrower shape wins. */
function intersect(a: ApiField, b: ApiField): ApiField {
  const types =
    a.types.length === 0
      ? b.types
      : b.types.length === 0
        ? a.types
        : a.types.filter((t) => b.types.includes(t));
  const merged: ApiField = { field: a.field, types };
  const values = a.enum && b.enum ? a.enum.filter((v) => b.enum!.includes(v)) : (a.enum ?? b.enum);
  if (values) merged.enum = values;
  if (a.required || b.required) merged.required = true;
  if (a.open && b.open) merged.open = true;
  return merged;
}

/** An object (or anything) whose contents the document leaves unsaid: any field below fits. */
function isOpen(schema: Json): boolean {
  const types = typesOf(schema);
  const structured = ['properties', 'items', 'allOf', 'oneOf', 'anyOf'].some((k) => k in schema);
  return (
    !structured &&
    (types.length === 0 || types.includes('object')) &&
    schema['additionalProperties'] !== false
  );
}

class TooLarge extends Error {}

/**
 * Flattens a (dereferenced, possibly cyclic) JSON Schema into dotted fields: `customer.name`,
 * `items[].sku`. A field is required only when every level above it is. A schema met again
 * below itself (a recursive type) stops there: its fields are already listed once.
 */
class Flattener {
  readonly fields = new Map<string, ApiField>();

  constructor(private readonly request: boolean) {}

  add(field: ApiField, combine: (a: ApiField, b: ApiField) => ApiField): void {
    const known = this.fields.get(field.field);
    if (!known && this.fields.size >= LIMITS.fieldsPerOperation) throw new TooLarge();
    this.fields.set(field.field, known ? combine(known, field) : field);
  }

  walk(schema: unknown, prefix: string, required: boolean, ancestors: readonly unknown[]): void {
    if (!isObject(schema)) return;
    if (prefix) {
      const field: ApiField = { field: prefix, types: typesOf(schema) };
      const values = enumOf(schema);
      if (values) field.enum = values;
      if (this.request && required) field.required = true;
      // A recursive type is listed once; below its repetition any field it has is offered.
      if (isOpen(schema) || ancestors.includes(schema)) field.open = true;
      this.add(field, intersect);
    }
    if (ancestors.includes(schema) || ancestors.length > LIMITS.depth) return;
    const below = [...ancestors, schema];
    const branch = (key: 'allOf' | 'oneOf' | 'anyOf') =>
      Array.isArray(schema[key]) ? (schema[key] as unknown[]) : [];
    for (const part of branch('allOf')) this.walk(part, prefix, required, below);
    // Alternatives: a field of one branch may be absent, so none of theirs is required.
    for (const part of [...branch('oneOf'), ...branch('anyOf')]) {
      const alternative = new Flattener(this.request);
      alternative.walk(part, prefix, required, below);
      for (const field of alternative.fields.values()) {
        if (field.field !== prefix) delete field.required;
        this.add(field, union);
      }
    }
    const properties = isObject(schema['properties']) ? schema['properties'] : {};
    const requiredNames = Array.isArray(schema['required']) ? schema['required'] : [];
    for (const [name, property] of Object.entries(properties)) {
      const path = prefix ? `${prefix}.${name}` : name;
      if (path.length > LIMITS.fieldName) continue;
      this.walk(property, path, required && requiredNames.includes(name), below);
    }
    if (schema['items'] !== undefined) this.walk(schema['items'], `${prefix}[]`, required, below);
  }
}

/** The JSON body of a request or response: application/json or any +json type, else the first. */
function bodySchema(content: unknown): unknown {
  if (!isObject(content)) return undefined;
  const types = Object.keys(content);
  const chosen =
    types.find((t) => t === 'application/json') ??
    types.find((t) => /[/+]json\b/.test(t)) ??
    types[0];
  return chosen === undefined ? undefined : (content[chosen] as Json | undefined)?.['schema'];
}

function parameters(pathItem: Json, operation: Json): Json[] {
  const byKey = new Map<string, Json>();
  for (const list of [pathItem['parameters'], operation['parameters']])
    for (const parameter of Array.isArray(list) ? list : [])
      if (isObject(parameter))
        byKey.set(`${String(parameter['in'])}:${String(parameter['name'])}`, parameter);
  return [...byKey.values()];
}

function normalizeOperation(method: string, path: string, pathItem: Json, operation: Json) {
  const request = new Flattener(true);
  for (const parameter of parameters(pathItem, operation)) {
    const where = String(parameter['in']);
    if (where !== 'query' && where !== 'header') continue;
    const name =
      where === 'header' ? String(parameter['name']).toLowerCase() : String(parameter['name']);
    const schema = isObject(parameter['schema']) ? parameter['schema'] : {};
    const field: ApiField = { field: `${where}:${name}`, types: typesOf(schema) };
    const values = enumOf(schema);
    if (values) field.enum = values;
    if (parameter['required'] === true) field.required = true;
    request.add(field, intersect);
  }
  const requestBody = isObject(operation['requestBody']) ? operation['requestBody'] : {};
  request.walk(bodySchema(requestBody['content']), '', requestBody['required'] === true, []);

  const responses = isObject(operation['responses']) ? operation['responses'] : {};
  const success = Object.keys(responses).filter((code) => /^2(\d\d|XX)$/i.test(code));
  const response = new Flattener(false);
  for (const code of success.length > 0 ? success : ['default']) {
    const answer = responses[code];
    if (!isObject(answer)) continue;
    const one = new Flattener(false);
    one.walk(bodySchema(answer['content']), '', false, []);
    for (const field of one.fields.values()) response.add(field, union);
  }
  const sorted = (fields: Flattener) =>
    [...fields.fields.values()].sort((a, b) => a.field.localeCompare(b.field));
  return { method, path, request: sorted(request), response: sorted(response) };
}

/**
 * What an OpenAPI 3 document offers, reduced to what the gate compares. Takes the document with
 * its internal `$ref`s already resolved (by a maintained parser at the edge); pure.
 */
export function normalizeOpenApi(document: unknown): Parsed<ProvidedApi> {
  if (!isObject(document) || !isObject(document['paths']))
    return { ok: false, problems: [{ field: 'paths', problem: 'must be an object' }] };
  const operations: ProvidedOperation[] = [];
  for (const [path, pathItem] of Object.entries(document['paths'])) {
    if (!isObject(pathItem)) continue;
    if (path.length > LIMITS.path)
      return {
        ok: false,
        problems: [
          {
            field: `paths.${path.slice(0, 40)}…`,
            problem: `is longer than ${LIMITS.path} characters`,
          },
        ],
      };
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method.toLowerCase()];
      if (!isObject(operation)) continue;
      if (operations.length >= LIMITS.operations)
        return {
          ok: false,
          problems: [{ field: 'paths', problem: `has more than ${LIMITS.operations} operations` }],
        };
      try {
        operations.push(normalizeOperation(method, path, pathItem, operation));
      } catch (error) {
        if (!(error instanceof TooLarge)) throw error;
        return {
          ok: false,
          problems: [
            {
              field: `paths.${path}.${method.toLowerCase()}`,
              problem: `expands to more than ${LIMITS.fieldsPerOperation} fields`,
            },
          ],
        };
      }
    }
  }
  operations.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
  return { ok: true, value: { operations } };
}
