import { readFile } from 'node:fs/promises';
import Ajv from 'ajv';
import { Command } from 'commander';
import {
  JUDGE_SETTINGS_SCHEMA,
  JudgeInputError,
  judgeCompleteWindow,
  parseJudgeRequest,
  type JudgeRequest,
  type JudgeSettings,
} from '@rollgate/judges';
import type { CliContext } from '../context';
import { toVerdictOutput } from './format-verdict';

/** Where the command reads its input; replaced in tests. */
export interface JudgeInput {
  readStdin(): Promise<string>;
  readFile(path: string): Promise<string>;
}

export const PROCESS_INPUT: JudgeInput = {
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
  readFile: (path) => readFile(path, 'utf8'),
};

/** Bad input: exit code 2, one line naming the problem. */
const INPUT_ERROR_EXIT = 2;

/** `rollgate judge FILE [--config FILE]`: judge one request or an array of them. */
export function judgeCommand(
  context: CliContext,
  setExitCode: (code: number) => void,
  input: JudgeInput = PROCESS_INPUT,
): Command {
  return new Command('judge')
    .description('Compare canary with baseline samples and print the verdict as JSON')
    .argument('<file>', 'JSON request, or an array of requests; - reads standard input')
    .option('--config <file>', "a service's judge settings (JSON); defaults otherwise")
    .action(async (file: string, options: { config?: string }) => {
      try {
        const settings = options.config ? parseSettings(await readJson(input, options.config)) : {};
        const decoded = await readJson(input, file);
        const judged = Array.isArray(decoded)
          ? decoded.map((item, i) => judgeOne(parseJudgeRequest(item, `requests[${i}]`), settings))
          : judgeOne(parseJudgeRequest(decoded), settings);
        context.output.out(`${JSON.stringify(judged, null, 2)}\n`);
        setExitCode(0);
      } catch (error) {
        if (!(error instanceof JudgeInputError)) throw error;
        context.output.err(`error: ${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
        setExitCode(INPUT_ERROR_EXIT);
      }
    });
}

const judgeOne = (request: JudgeRequest, settings: JudgeSettings) =>
  toVerdictOutput(judgeCompleteWindow(request, settings));

async function readJson(input: JudgeInput, path: string): Promise<unknown> {
  const name = path === '-' ? 'standard input' : path;
  let text: string;
  try {
    text = path === '-' ? await input.readStdin() : await input.readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new JudgeInputError(
      `cannot read ${name}: ${typeof code === 'string' ? code : String(error)}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new JudgeInputError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}

const validateSettings = new Ajv({ allErrors: false }).compile(JUDGE_SETTINGS_SCHEMA);

function parseSettings(value: unknown): JudgeSettings {
  if (validateSettings(value)) return value as JudgeSettings;
  const [problem] = validateSettings.errors ?? [];
  const path = `config${dottedPath(problem?.instancePath ?? '')}`;
  const extra =
    problem?.params && 'additionalProperty' in problem.params
      ? ` (${String(problem.params.additionalProperty)})`
      : '';
  throw new JudgeInputError(`${path} ${problem?.message ?? 'is invalid'}${extra}`);
}

/** Ajv's JSON pointer `/sequential/mixture/0` as `.sequential.mixture[0]`. */
const dottedPath = (pointer: string): string =>
  pointer.replace(/\/([^/]+)/g, (_, key: string) => (/^\d+$/.test(key) ? `[${key}]` : `.${key}`));
