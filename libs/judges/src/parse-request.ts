import { JudgeInputError } from './errors';
import { isJudgeName, JUDGE_NAMES } from './registry';
import { DIRECTIONS, type Direction, type JudgeRequest, type MetricInput } from './types';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (path: string, problem: string): never => {
  throw new JudgeInputError(`${path} ${problem}`);
};

/**
 * Checks a decoded JSON request and returns it typed. `null` in a sample stands for a missing
 * value (NaN). Throws JudgeInputError naming the first problem, e.g. `metrics[0].canary[3] must
 * be a number or null`.
 */
export function parseJudgeRequest(value: unknown, path = 'request'): JudgeRequest {
  if (!isObject(value)) return fail(path, 'must be an object');
  const known = new Set(['judge', 'metrics']);
  const extra = Object.keys(value).find((key) => !known.has(key));
  if (extra !== undefined) fail(`${path}.${extra}`, 'is not a request field (judge, metrics)');
  if (value.judge !== undefined && !isJudgeName(value.judge)) {
    fail(`${path}.judge`, `must be one of ${JUDGE_NAMES.join(', ')}`);
  }
  if (!Array.isArray(value.metrics)) return fail(`${path}.metrics`, 'must be an array');
  const metrics = value.metrics.map((m, i) => parseMetric(m, `${path}.metrics[${i}]`));
  const names = new Set<string>();
  for (const m of metrics) {
    if (names.has(m.name)) fail(`${path}.metrics`, `has "${m.name}" twice`);
    names.add(m.name);
  }
  return value.judge === undefined
    ? { metrics }
    : { judge: value.judge as JudgeRequest['judge'], metrics };
}

function parseMetric(value: unknown, path: string): MetricInput {
  if (!isObject(value)) return fail(path, 'must be an object');
  const known = new Set(['name', 'baseline', 'canary', 'direction', 'critical', 'weight']);
  const extra = Object.keys(value).find((key) => !known.has(key));
  if (extra !== undefined) fail(`${path}.${extra}`, 'is not a metric field');
  if (typeof value.name !== 'string' || value.name === '')
    fail(`${path}.name`, 'must be a non-empty string');
  if (!DIRECTIONS.includes(value.direction as Direction)) {
    fail(`${path}.direction`, `must be one of ${DIRECTIONS.join(', ')}`);
  }
  if (value.critical !== undefined && typeof value.critical !== 'boolean') {
    fail(`${path}.critical`, 'must be true or false');
  }
  if (value.weight !== undefined && !(typeof value.weight === 'number' && value.weight >= 0)) {
    fail(`${path}.weight`, 'must be a number ≥ 0');
  }
  return {
    name: value.name as string,
    baseline: parseSample(value.baseline, `${path}.baseline`),
    canary: parseSample(value.canary, `${path}.canary`),
    direction: value.direction as Direction,
    ...(value.critical !== undefined && { critical: value.critical as boolean }),
    ...(value.weight !== undefined && { weight: value.weight as number }),
  };
}

function parseSample(value: unknown, path: string): number[] {
  if (!Array.isArray(value)) return fail(path, 'must be an array of numbers');
  return value.map((v, i) => {
    if (v === null) return NaN;
    if (typeof v !== 'number' || !Number.isFinite(v))
      return fail(`${path}[${i}]`, 'must be a number or null');
    return v;
  });
}
