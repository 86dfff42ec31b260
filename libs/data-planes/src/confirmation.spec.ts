import { KeyedSerialQueue, routeMismatches, withTimeout } from './confirmation';
import { AppliedRoute, RouteTable } from './port';

const table: RouteTable = {
  service: 'web',
  weights: { stable: 90, canary: 10 },
  backends: {
    stable: [{ id: 's1', host: '10.0.0.1', port: 80 }],
    canary: [{ id: 'c1', host: '10.0.0.2', port: 80 }],
  },
};
const applied: AppliedRoute = {
  service: 'web',
  dataPlane: 'test',
  weights: { stable: 90, baseline: 0, canary: 10, blue: 0, green: 0 },
  backends: structuredClone(table.backends),
  endpoint: { host: '127.0.0.1', port: 1 },
};

describe('routeMismatches', () => {
  it('is empty when the read-back matches', () => {
    expect(routeMismatches(table, applied)).toEqual([]);
  });

  it('names weights, instances and stickiness that differ', () => {
    const drifted: AppliedRoute = {
      ...applied,
      weights: { ...applied.weights, stable: 95, canary: 5 },
      backends: { stable: applied.backends.stable },
      sticky: { header: 'x-user-id' },
    };
    expect(routeMismatches(table, drifted)).toEqual([
      'weight of stable is 95, expected 90',
      'weight of canary is 5, expected 10',
      'backends of canary are [], expected [c1@10.0.0.2:80]',
      'sticky header is x-user-id, expected none',
    ]);
  });
});

describe('withTimeout', () => {
  it('passes the result through, or rejects with the given error when too slow', async () => {
    await expect(withTimeout(Promise.resolve(7), 50, () => new Error('late'))).resolves.toBe(7);
    const never = new Promise<number>(() => undefined);
    await expect(withTimeout(never, 10, () => new Error('late'))).rejects.toThrow('late');
  });
});

describe('KeyedSerialQueue', () => {
  it('runs tasks of one key one at a time in call order, even when one fails', async () => {
    const queue = new KeyedSerialQueue();
    const log: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run('web', task('a', 20, true)),
      queue.run('web', task('b', 1)),
      queue.run('api', task('c', 1)),
    ]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('start b')).toBeGreaterThan(log.indexOf('end a'));
    expect(log.indexOf('end c')).toBeLessThan(log.indexOf('end a')); // other keys do not wait
  });
});
