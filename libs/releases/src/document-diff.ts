import { canonicalJson } from '@rollgate/contracts';

/** One difference between two JSON documents, at a path such as `release.plan.steps[1]`. */
export interface DocumentChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

/**
 * What changes from `before` to `after`, leaf by leaf, in document order (keys sorted): objects and
 * arrays are walked, anything else is compared as a value. `before` null: everything is added.
 */
export function documentChanges(before: unknown, after: unknown, path = ''): DocumentChange[] {
  if (before === undefined && after === undefined) return [];
  if (before === undefined) return [{ path, change: 'added', after }];
  if (after === undefined) return [{ path, change: 'removed', before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => documentChanges(before[key], after[key], join(path, key)));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const length = Math.max(before.length, after.length);
    return Array.from({ length }, (_, i) =>
      documentChanges(before[i], after[i], `${path}[${i}]`),
    ).flat();
  }
  return canonicalJson(before) === canonicalJson(after)
    ? []
    : [{ path, change: 'changed', before, after }];
}
