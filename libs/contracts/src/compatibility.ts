/** A JSON Schema as stored in the lock: plain JSON. */
export type JsonSchema = { [keyword: string]: unknown };

/** One published (type, version) as the compatibility check sees it. */
export interface PublishedSchema {
  type: string;
  version: number;
  topic: string;
  schema: JsonSchema;
}

/** Keywords that only document; changing them cannot break a producer or a consumer. */
const ANNOTATIONS = new Set(['description']);

const isObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with object keys sorted: equal schemas give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const entries = Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

const same = (a: unknown, b: unknown): boolean => canonicalJson(a) === canonicalJson(b);
const show = (value: unknown): string => JSON.stringify(value);
const listOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/**
 * Problems that make `current` an unsafe replacement for `published` under the SAME (type, version):
 * events already on the log, and consumers already deployed, must keep working both ways.
 * Allowed: identical schemas, new optional properties, description changes. Everything else is reported.
 */
export function checkSchemaCompatibility(
  published: PublishedSchema,
  current: PublishedSchema,
): string[] {
  const id = `${published.type}@${published.version}`;
  if (current.type !== published.type || current.version !== published.version) {
    return [`${id}: compared with a different event, ${current.type}@${current.version}`];
  }
  const problems: string[] = [];
  if (current.topic !== published.topic) {
    problems.push(`topic changed from ${published.topic} to ${current.topic}`);
  }
  compareSchemas(published.schema, current.schema, 'data', problems);
  return problems.map((problem) => `${id}: ${problem}`);
}

function compareSchemas(before: unknown, after: unknown, path: string, out: string[]): void {
  if (!isObject(before) || !isObject(after)) {
    if (!same(before, after))
      out.push(`${path}: schema changed from ${show(before)} to ${show(after)}`);
    return;
  }
  const keywords = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  for (const keyword of keywords) {
    if (ANNOTATIONS.has(keyword)) continue;
    const was = before[keyword];
    const now = after[keyword];
    if (keyword === 'properties') compareProperties(before, after, path, out);
    else if (keyword === 'required') compareRequired(before, after, path, out);
    else if (keyword === 'enum') compareEnum(was, now, path, out);
    else if (keyword === 'items' && was !== undefined && now !== undefined) {
      compareSchemas(was, now, `${path}[]`, out);
    } else if (keyword === 'additionalProperties' && isObject(was) && isObject(now)) {
      compareSchemas(was, now, `${path}.*`, out);
    } else if (was === undefined) out.push(`${path}: ${keyword} added (${show(now)})`);
    else if (now === undefined) out.push(`${path}: ${keyword} removed (was ${show(was)})`);
    else if (!same(was, now))
      out.push(`${path}: ${keyword} changed from ${show(was)} to ${show(now)}`);
  }
}

function compareProperties(
  before: JsonSchema,
  after: JsonSchema,
  path: string,
  out: string[],
): void {
  const was = isObject(before['properties']) ? before['properties'] : {};
  const now = isObject(after['properties']) ? after['properties'] : {};
  for (const name of Object.keys(was).sort()) {
    if (!(name in now)) out.push(`${path}.${name}: property removed`);
    else compareSchemas(was[name], now[name], `${path}.${name}`, out);
  }
  // New properties are fine unless required; compareRequired reports those.
}

function compareRequired(before: JsonSchema, after: JsonSchema, path: string, out: string[]): void {
  const was = new Set(listOf(before['required']).map(String));
  const now = new Set(listOf(after['required']).map(String));
  const hadProperty = (name: string) =>
    isObject(before['properties']) && name in before['properties'];
  const hasProperty = (name: string) =>
    isObject(after['properties']) && name in after['properties'];
  for (const name of [...now].filter((n) => !was.has(n)).sort()) {
    out.push(
      `${path}.${name}: ${hadProperty(name) ? 'became required' : 'required property added'}`,
    );
  }
  for (const name of [...was].filter((n) => !now.has(n)).sort()) {
    // A removed property is already reported as removed.
    if (hasProperty(name) || !hadProperty(name)) out.push(`${path}.${name}: no longer required`);
  }
}

function compareEnum(was: unknown, now: unknown, path: string, out: string[]): void {
  if (was === undefined || now === undefined) {
    out.push(`${path}: enum ${was === undefined ? `added (${show(now)})` : 'removed'}`);
    return;
  }
  const before = listOf(was).map(canonicalJson);
  const after = listOf(now).map(canonicalJson);
  const removed = before.filter((value) => !after.includes(value));
  const added = after.filter((value) => !before.includes(value));
  if (removed.length) out.push(`${path}: enum values removed: ${removed.join(', ')}`);
  // Old consumers would reject the new values.
  if (added.length) out.push(`${path}: enum values added: ${added.join(', ')}`);
}
