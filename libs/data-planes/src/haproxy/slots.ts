import { BackendInstance, RouteTable, VersionGroup } from '../port';
import { fullWeights, groupsWithBackends } from '../route-table';
import { serverWeightsByGroup } from './server-weights';

/**
 * Why slots: haproxy.cfg declares a fixed number of `server` lines per backend. An instance takes
 * a free slot at runtime (`set server ... addr/port`, then `state ready`); a slot it leaves goes
 * back to maintenance. So adding a group, or replacing instances, never needs a reload — only
 * growing past the declared capacity does (a restart with more slots).
 */
export interface SlotAssignment {
  group: VersionGroup;
  /** `host` is an IP address: HAProxy's runtime API does not resolve names. */
  instance: BackendInstance;
  weight: number;
}

/** Index `i` is server `slotName(i)`; undefined = free (in maintenance). */
export type SlotTable = Array<SlotAssignment | undefined>;

export function slotName(index: number): string {
  return `slot-${String(index + 1).padStart(2, '0')}`;
}

/** Thrown when a table has more instances than the service has server slots. */
export class SlotCapacityError extends Error {
  override readonly name = 'SlotCapacityError';
}

/**
 * Where each instance of `table` goes. An instance already in a slot keeps it (no address change,
 * no dropped connections); new instances take the lowest free slots; instances no longer in the
 * table free theirs. `table` must be validated and its hosts resolved to addresses.
 */
export function planSlots(previous: SlotTable, table: RouteTable, capacity: number): SlotTable {
  const wanted = weightedInstances(table);
  if (wanted.length > capacity) {
    throw new SlotCapacityError(
      `service '${table.service}' needs ${wanted.length} server slots but haproxy.cfg declares ${capacity}; ` +
        'raise `slots` for this service (takes a restart)',
    );
  }
  const next: SlotTable = Array.from({ length: capacity }, () => undefined);
  const placed = new Set<SlotAssignment>();
  previous.forEach((old, index) => {
    const same = old && wanted.find((candidate) => sameInstance(candidate.instance, old.instance));
    if (same && index < capacity) {
      next[index] = same;
      placed.add(same);
    }
  });
  for (const assignment of wanted.filter((candidate) => !placed.has(candidate))) {
    next[next.findIndex((slot) => slot === undefined)] = assignment;
  }
  return next;
}

function weightedInstances(table: RouteTable): SlotAssignment[] {
  const groups = groupsWithBackends(table.backends);
  const counts = Object.fromEntries(groups.map(([group, instances]) => [group, instances.length]));
  const weights = serverWeightsByGroup(fullWeights(table.weights), counts);
  return groups.flatMap(([group, instances]) =>
    instances.map((instance, i) => ({ group, instance, weight: weights[group][i] })),
  );
}

function sameInstance(a: BackendInstance, b: BackendInstance): boolean {
  return a.id === b.id && a.host === b.host && a.port === b.port;
}
