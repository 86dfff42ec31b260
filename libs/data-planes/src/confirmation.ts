import { AppliedRoute, BackendInstance, RouteTable, VERSION_GROUPS } from './port';
import { fullWeights } from './route-table';

/** How long a provider waits for its data plane to confirm, unless configured. */
export const DEFAULT_CONFIRM_TIMEOUT_MS = 3000;

/** Differences between what was asked for and what the data plane reports; empty when they agree. */
export function routeMismatches(expected: RouteTable, actual: AppliedRoute): string[] {
  const mismatches: string[] = [];
  const expectedWeights = fullWeights(expected.weights);
  for (const group of VERSION_GROUPS) {
    if (expectedWeights[group] !== actual.weights[group]) {
      mismatches.push(
        `weight of ${group} is ${actual.weights[group]}, expected ${expectedWeights[group]}`,
      );
    }
    const want = describeInstances(expected.backends[group]);
    const have = describeInstances(actual.backends[group]);
    if (want !== have) mismatches.push(`backends of ${group} are [${have}], expected [${want}]`);
  }
  const wantSticky = expected.sticky?.header.toLowerCase();
  if (wantSticky !== actual.sticky?.header) {
    mismatches.push(
      `sticky header is ${actual.sticky?.header ?? 'none'}, expected ${wantSticky ?? 'none'}`,
    );
  }
  return mismatches;
}

function describeInstances(instances: BackendInstance[] | undefined): string {
  return (instances ?? [])
    .map(({ id, host, port }) => `${id}@${host}:${port}`)
    .sort()
    .join(', ');
}

/** Rejects with `onTimeout()` when `work` has not settled within `ms`. */
export async function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs tasks one at a time per key, in call order. Two applies for one service must not
 * interleave their steps (HAProxy slot planning reads the previous assignment).
 */
export class KeyedSerialQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
