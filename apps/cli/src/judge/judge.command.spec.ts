import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig } from '@rollgate/platform';
import { createRandom } from '@rollgate/stats';
import { intervalRates } from '@rollgate/stats/testing';
import { Command } from 'commander';
import { buildProgram, createContext } from '../program';
import { judgeCommand, type JudgeInput } from './judge.command';

const REPO = join(__dirname, '..', '..', '..', '..');

const latency = {
  name: 'latency',
  baseline: [100, 102, 98, 101, 99, 103, 97, 96],
  canary: [130, 128, 135, 131, 129, 133, 127, 132],
  direction: 'increase',
};
const steady = {
  name: 'errors',
  baseline: [1, 2, 3, 4],
  canary: [4, 3, 2, 1],
  direction: 'either',
};

/** Runs `rollgate judge …` in process with files and stdin served from memory. */
async function judge(argv: string[], files: Record<string, string> = {}, stdin = '') {
  let stdout = '';
  let stderr = '';
  let exitCode = -1;
  const context = createContext({
    config: parseConfig({}),
    output: { out: (text) => (stdout += text), err: (text) => (stderr += text) },
  });
  const input: JudgeInput = {
    readStdin: async () => stdin,
    readFile: async (path) => {
      if (!(path in files)) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      return files[path];
    },
  };
  const program = new Command('rollgate')
    .exitOverride()
    .addCommand(judgeCommand(context, (code) => (exitCode = code), input));
  await program.parseAsync(['judge', ...argv], { from: 'user' });
  return { exitCode, stdout, stderr };
}

describe('rollgate judge', () => {
  it('is a command of the rollgate program', () => {
    const context = createContext({
      config: parseConfig({}),
      output: { out: () => undefined, err: () => undefined },
    });
    expect(buildProgram(context, () => undefined).commands.map((c) => c.name())).toContain('judge');
  });

  it('prints the verdict of one request in the documented shape', async () => {
    const request = JSON.stringify({ judge: 'kayenta', metrics: [latency, steady] });
    const { exitCode, stdout, stderr } = await judge(['request.json'], { 'request.json': request });

    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    const verdict = JSON.parse(stdout);
    expect(Object.keys(verdict)).toEqual(['verdict', 'score', 'metrics']);
    expect(verdict).toMatchObject({ verdict: 'FAIL', score: 50 });
    expect(Object.keys(verdict.metrics[0])).toEqual([
      'name',
      'classification',
      'u',
      'pValue',
      'effect',
      'reason',
    ]);
    // No ties, 8 and 8 values, every canary value above every baseline value:
    // U = 8·8 = 64 and the exact two-sided p = 2/C(16,8) = 2/12870.
    expect(verdict.metrics[0]).toMatchObject({ name: 'latency', classification: 'High', u: 64 });
    expect(verdict.metrics[0].pValue).toBeCloseTo(2 / 12870, 15);
    expect(verdict.metrics[1]).toMatchObject({ classification: 'Pass', u: 8, pValue: 1 });
  });

  it('reads standard input for -, and answers an array with an array in the same order', async () => {
    const requests = [
      { judge: 'kayenta', metrics: [steady] },
      { judge: 'threshold', metrics: [steady] },
      { metrics: [latency] },
    ];
    const { exitCode, stdout } = await judge(['-'], {}, JSON.stringify(requests));

    expect(exitCode).toBe(0);
    // The default judge judges a one-shot request as a complete window: a fixed-horizon
    // Mann-Whitney test, here exact (8 + 8 values, every canary value above every baseline one).
    expect(JSON.parse(stdout).map((v: { verdict: string }) => v.verdict)).toEqual([
      'PASS',
      'NODATA',
      'FAIL',
    ]);
  });

  it('fails per-interval error rates of 1% vs 5% with the default judge, every time', async () => {
    // 30 intervals of 100 requests per group; the per-interval rates are the metric's values.
    const random = createRandom(16);
    const rates = (p: number) => intervalRates(random, p);
    const requests = Array.from({ length: 50 }, () => ({
      metrics: [
        {
          name: 'error-rate',
          baseline: rates(0.01),
          canary: rates(0.05),
          direction: 'increase',
          critical: true,
        },
      ],
    }));
    const { stdout } = await judge(['-'], {}, JSON.stringify(requests));

    const verdicts = JSON.parse(stdout) as { verdict: string; metrics: { reason: string }[] }[];
    expect(verdicts.filter((v) => v.verdict !== 'FAIL')).toEqual([]);
    expect(verdicts[0].metrics[0].reason).toMatch(/^regression: Mann-Whitney test, one-sided/);
  });

  it('applies a --config file of service settings', async () => {
    const config = JSON.stringify({
      judge: 'threshold',
      threshold: { conditions: { latency: { aggregate: 'max', max: 140 } } },
    });
    const files = { 'r.json': JSON.stringify({ metrics: [latency] }), 'c.json': config };
    const { stdout } = await judge(['r.json', '--config', 'c.json'], files);

    expect(JSON.parse(stdout)).toMatchObject({
      verdict: 'PASS',
      metrics: [{ reason: 'canary max 135 is within bounds (≤ 140)' }],
    });
  });

  it('prints null where a number is undefined (no baseline)', async () => {
    const request = JSON.stringify({ judge: 'kayenta', metrics: [{ ...latency, baseline: [] }] });
    const { stdout } = await judge(['-'], {}, request);

    expect(JSON.parse(stdout).metrics[0]).toMatchObject({
      classification: 'NoData',
      u: null,
      pValue: null,
      effect: null,
    });
  });

  it.each([
    [
      '-',
      {},
      '{"metrics": [',
      'error: standard input is not valid JSON: Unexpected end of JSON input',
    ],
    ['missing.json', {}, '', 'error: cannot read missing.json: ENOENT'],
    [
      '-',
      {},
      '{"metrics":[{"name":"a","baseline":[1],"canary":["x"],"direction":"increase"}]}',
      'error: request.metrics[0].canary[0] must be a number or null',
    ],
    [
      '-',
      {},
      '[{"metrics":[]},{"judge":"magic","metrics":[]}]',
      'error: requests[1].judge must be one of kayenta, threshold, sequential',
    ],
    ['-', {}, '"hello"', 'error: request must be an object'],
  ])(
    'bad input %s → one line naming the problem, exit code 2',
    async (file, files, stdin, message) => {
      const { exitCode, stdout, stderr } = await judge([file], files, stdin);

      expect({ exitCode, stdout, stderr }).toEqual({
        exitCode: 2,
        stdout: '',
        stderr: `${message}\n`,
      });
    },
  );

  it('rejects a config file with an unknown or invalid setting, exit code 2', async () => {
    const files = {
      'r.json': '{"metrics":[]}',
      'c.json': '{"sequential":{"alpha":2}}',
      'd.json': '{"kayenta":{"treshold":1}}',
    };

    expect(await judge(['r.json', '--config', 'c.json'], files)).toMatchObject({
      exitCode: 2,
      stderr: 'error: config.sequential.alpha must be < 1\n',
    });
    expect((await judge(['r.json', '--config', 'd.json'], files)).stderr).toBe(
      'error: config.kayenta must NOT have additional properties (treshold)\n',
    );
  });
});

describe('rollgate judge as a process', () => {
  const run = (args: string[], stdin: string) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO, 'bin', 'rollgate.js'), ...args], {
        cwd: REPO,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(stdin);
    });

  it('reads real standard input and exits 0 with the verdict', async () => {
    const { code, stdout } = await run(
      ['judge', '-'],
      JSON.stringify({ judge: 'kayenta', metrics: [latency] }),
    );

    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ verdict: 'FAIL', score: 0 });
  });

  it('exits 2 with one line on stderr for bad input', async () => {
    const { code, stdout, stderr } = await run(['judge', '-'], '{"metrics":[{"name":"a"}]}');

    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(
      'error: request.metrics[0].direction must be one of increase, decrease, either\n',
    );
  });
});
