import { InvalidRouteTableError, RouteTable } from './port';
import { fullWeights, normalizedTable, validateRouteTable } from './route-table';

const instance = (id: string, port: number) => ({ id, host: '127.0.0.1', port });

const valid: RouteTable = {
  service: 'checkout',
  weights: { stable: 95, canary: 5 },
  backends: {
    stable: [instance('s1', 8001), instance('s2', 8002)],
    canary: [instance('c1', 8003)],
  },
  sticky: { header: 'X-User-Id' },
};

function problemsOf(table: unknown): string[] {
  try {
    validateRouteTable(table as RouteTable);
    return [];
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRouteTableError);
    return (error as InvalidRouteTableError).problems;
  }
}

describe('validateRouteTable', () => {
  it('accepts a table whose integer weights sum to 100 and whose weighted groups have instances', () => {
    expect(problemsOf(valid)).toEqual([]);
    expect(
      problemsOf({ ...valid, weights: { stable: 100, canary: 0 }, sticky: undefined }),
    ).toEqual([]);
  });

  it.each([
    [{ weights: { stable: 90, canary: 5 } }, 'weights must sum to 100, got 95'],
    [
      { weights: { stable: 95.5, canary: 4.5 } },
      'weights.stable must be an integer from 0 to 100, got 95.5',
    ],
    [
      { weights: { stable: 105, canary: -5 } },
      'weights.stable must be an integer from 0 to 100, got 105',
    ],
    [
      { weights: { stable: 95, dark: 5 } },
      'weights.dark: unknown group (expected one of stable, baseline, canary, blue, green)',
    ],
    [{ weights: { stable: 50, blue: 50 } }, 'group blue has weight 50 but no backends'],
    [{ service: 'Check Out' }, 'service must match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'],
    [
      { backends: { stable: [instance('s1', 0)], canary: [instance('c1', 8003)] } },
      'backends.stable[0].port must be an integer from 1 to 65535, got 0',
    ],
    [
      { backends: { stable: [instance('x', 8001)], canary: [instance('x', 8003)] } },
      "backends.canary[0]: id 'x' is listed twice",
    ],
    [
      { backends: { stable: [instance('s1', 8001)], canary: [instance('c1', 8001)] } },
      'backends.canary[0]: 127.0.0.1:8001 is listed twice',
    ],
    [
      { backends: { stable: [{ id: '', host: '', port: 1 }], canary: [instance('c1', 2)] } },
      'backends.stable[0].host must be a non-empty string',
    ],
    [{ sticky: { header: 'x user' } }, 'sticky.header must be an HTTP header name'],
  ])('refuses %j: %s', (change, problem) => {
    expect(problemsOf({ ...valid, ...change })).toContain(problem);
  });

  it('names every problem at once in the message', () => {
    const table = { ...valid, service: 'UPPER', weights: { stable: 50 } };
    expect(() => validateRouteTable(table)).toThrow(
      "invalid route table for service 'UPPER': service must match ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$; weights must sum to 100, got 50",
    );
  });

  it('survives input that is not shaped like a table at all (JSON from outside)', () => {
    expect(problemsOf(null)).toEqual(expect.arrayContaining(['the table must be an object']));
    expect(problemsOf({ service: 'web', weights: 'all', backends: [] })).toEqual(
      expect.arrayContaining(['weights must be an object']),
    );
  });
});

describe('normalizedTable', () => {
  it('fills every group weight, lower-cases the sticky header and copies instances', () => {
    const copy = normalizedTable(valid);
    expect(copy.weights).toEqual({ stable: 95, baseline: 0, canary: 5, blue: 0, green: 0 });
    expect(copy.sticky).toEqual({ header: 'x-user-id' });
    copy.backends.stable![0].port = 1;
    expect(valid.backends.stable![0].port).toBe(8001);
  });

  it('fullWeights gives 0 to missing groups', () => {
    expect(fullWeights({ green: 100 })).toEqual({
      stable: 0,
      baseline: 0,
      canary: 0,
      blue: 0,
      green: 100,
    });
  });
});
