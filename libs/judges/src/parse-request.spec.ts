import { JudgeInputError } from './errors';
import { parseJudgeRequest } from './parse-request';

const valid = {
  judge: 'kayenta',
  metrics: [
    {
      name: 'latency',
      baseline: [1, null, 3],
      canary: [2],
      direction: 'increase',
      critical: true,
      weight: 2,
    },
  ],
};

describe('parseJudgeRequest', () => {
  it('accepts a valid request and reads null as a missing value', () => {
    const parsed = parseJudgeRequest(valid);
    expect(parsed.judge).toBe('kayenta');
    expect(parsed.metrics[0]).toEqual({
      name: 'latency',
      baseline: [1, NaN, 3],
      canary: [2],
      direction: 'increase',
      critical: true,
      weight: 2,
    });
  });

  it.each([
    [[], 'request must be an object'],
    [{ metrics: 'x' }, 'request.metrics must be an array'],
    [{ ...valid, judge: 'magic' }, 'request.judge must be one of kayenta, threshold, sequential'],
    [{ ...valid, verbose: true }, 'request.verbose is not a request field (judge, metrics)'],
    [
      { metrics: [{ ...valid.metrics[0], direction: 'up' }] },
      'request.metrics[0].direction must be one of increase, decrease, either',
    ],
    [
      { metrics: [{ ...valid.metrics[0], canary: [1, '2'] }] },
      'request.metrics[0].canary[1] must be a number or null',
    ],
    [
      { metrics: [{ ...valid.metrics[0], baseline: 5 }] },
      'request.metrics[0].baseline must be an array of numbers',
    ],
    [
      { metrics: [{ ...valid.metrics[0], name: '' }] },
      'request.metrics[0].name must be a non-empty string',
    ],
    [
      { metrics: [{ ...valid.metrics[0], weight: -1 }] },
      'request.metrics[0].weight must be a number ≥ 0',
    ],
    [
      { metrics: [{ ...valid.metrics[0], critical: 'yes' }] },
      'request.metrics[0].critical must be true or false',
    ],
    [
      { metrics: [{ ...valid.metrics[0], unit: 'ms' }] },
      'request.metrics[0].unit is not a metric field',
    ],
    [{ metrics: [valid.metrics[0], valid.metrics[0]] }, 'request.metrics has "latency" twice'],
  ])('rejects %j: %s', (input, message) => {
    expect(() => parseJudgeRequest(input)).toThrow(new JudgeInputError(message));
  });

  it('prefixes the path it is given (one request of an array)', () => {
    expect(() => parseJudgeRequest({ metrics: 1 }, '[2]')).toThrow('[2].metrics must be an array');
  });
});
