import { canonicalJson, checkSchemaCompatibility, type JsonSchema } from './compatibility';
import type { EventDefinition } from './definition';

/**
 * The committed record of every published (type, version): `libs/contracts/published-schemas.json`.
 * Append-only: a locked version may only evolve compatibly and may never disappear.
 */
export type SchemaLock = Record<string, { topic: string; schema: JsonSchema }>;

export const LOCK_COMMAND = 'npm run contracts:lock';

export function lockKey(type: string, version: number): string {
  return `${type}@${version}`;
}

function parseLockKey(key: string): { type: string; version: number } {
  const at = key.lastIndexOf('@');
  return { type: key.slice(0, at), version: Number(key.slice(at + 1)) };
}

function compareKeys(a: string, b: string): number {
  const x = parseLockKey(a);
  const y = parseLockKey(b);
  return x.type.localeCompare(y.type) || x.version - y.version;
}

/** The lock for these definitions, with keys in a stable order so the file diffs cleanly. */
export function buildLock(definitions: readonly EventDefinition[]): SchemaLock {
  const entries = definitions
    .map((d) => {
      // A canonical JSON round trip sorts the keys inside the schema.
      const schema = JSON.parse(canonicalJson(d.schema)) as JsonSchema;
      return [lockKey(d.type, d.version), { topic: d.topic.name, schema }] as const;
    })
    .sort(([a], [b]) => compareKeys(a, b));
  return Object.fromEntries(entries);
}

export interface LockCheck {
  /** Locked versions that are gone or changed incompatibly: never acceptable. */
  problems: string[];
  /** Current versions not in the lock yet: fine, but the lock must be updated. */
  unlocked: string[];
}

/** Compares the definitions with the lock. */
export function checkLock(lock: SchemaLock, definitions: readonly EventDefinition[]): LockCheck {
  const current = buildLock(definitions);
  const problems: string[] = [];
  for (const [key, locked] of Object.entries(lock)) {
    const now = current[key];
    if (!now) {
      problems.push(`${key}: published version was removed (the schema lock is append-only)`);
      continue;
    }
    const { type, version } = parseLockKey(key);
    problems.push(
      ...checkSchemaCompatibility({ type, version, ...locked }, { type, version, ...now }),
    );
  }
  const unlocked = Object.keys(current).filter((key) => !(key in lock));
  return { problems, unlocked };
}
