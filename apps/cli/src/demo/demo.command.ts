import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import { localAdminTokenPath, type RollgateConfig } from '@rollgate/platform';
import type { CliContext } from '../context';
import { ApiError, describeApiError } from '../releases/api-client';
import { DemoError, runScenario } from './demo-run';
import { HostExitedError, startHost } from './host';
import { formatReleaseReport } from './report';
import {
  DEFAULT_SCENARIO,
  fleetProfiles,
  parseScenario,
  ScenarioError,
  type Scenario,
} from './scenario';

/** Bad input (the scenario file): exit code 2, each problem naming its field. */
const INPUT_ERROR_EXIT = 2;
/** Shell convention for a process ended by a signal: 128 + its number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted (${signal})`);
  }
}

interface DemoOptions {
  scenario?: string;
  json?: boolean;
  keepRunning?: boolean;
}

/**
 * `rollgate demo`: starts Rollgate (the embedded host, or production mode as configured) with a
 * sample service and synthetic users, releases the scenario's versions one after another and
 * prints what each release did. Everything it started stops when it ends or on Ctrl-C.
 */
export function demoCommand(
  context: CliContext,
  setExitCode: (code: number) => void,
  readText: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Command {
  return new Command('demo')
    .description(
      'Start Rollgate with a sample service and synthetic users, release versions one after another and print what each release did',
    )
    .option(
      '--scenario <file>',
      "scenario JSON (default: npm start's: v2 promoted, v3 rolled back)",
    )
    .option('--json', 'print {"releases": [...]} on stdout; progress goes to stderr')
    .option('--keep-running', 'keep Rollgate running after the demo, until Ctrl-C')
    .action(async (options: DemoOptions) => {
      let scenario: Scenario;
      try {
        scenario = options.scenario
          ? parseScenario(await readJson(readText, options.scenario))
          : DEFAULT_SCENARIO;
      } catch (error) {
        if (!(error instanceof ScenarioError)) throw error;
        const where = options.scenario ? `${options.scenario}: ` : '';
        context.output.err(`error: ${where}${error.problems.join(`\n  ${where}`)}\n`);
        setExitCode(INPUT_ERROR_EXIT);
        return;
      }
      setExitCode(await runDemo(context, scenario, options));
    });
}

async function readJson(readText: (path: string) => Promise<string>, path: string) {
  let text: string;
  try {
    text = await readText(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ScenarioError([
      `cannot read the file (${typeof code === 'string' ? code : 'error'})`,
    ]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ScenarioError([`not valid JSON: ${(error as Error).message}`]);
  }
}

/** The fleet's profiles for the scenario's builds, next to any the configuration already names. */
function writeProfiles(config: RollgateConfig, scenario: Scenario): string {
  const existing = config.fleetProfilesFile
    ? (JSON.parse(readFileSync(config.fleetProfilesFile, 'utf8')) as Record<string, unknown>)
    : {};
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, 'demo-profiles.json');
  writeFileSync(file, JSON.stringify({ ...existing, ...fleetProfiles(scenario) }), { mode: 0o600 });
  return file;
}

async function runDemo(
  context: CliContext,
  scenario: Scenario,
  options: DemoOptions,
): Promise<number> {
  const { config, output } = context;
  // With --json, stdout carries the JSON alone: progress goes to stderr, the host's output nowhere.
  const print = (line: string) => (options.json ? output.err : output.out)(`${line}\n`);
  const profiles = writeProfiles(config, scenario);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => abort.abort(new Interrupted(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const interrupted = new Promise<never>((_, fail) =>
    abort.signal.addEventListener('abort', () => fail(abort.signal.reason as Error), {
      once: true,
    }),
  );
  interrupted.catch(() => undefined);

  const host = startHost(
    { ROLLGATE_FLEET_PROFILES: profiles, NO_COLOR: '1' },
    options.json ? undefined : output.out,
  );
  const hostDied = () =>
    host.exited.then((code) => {
      throw new HostExitedError(
        `the Rollgate host exited (code ${String(code)}) during the demo:\n${host.recentOutput().trim()}`,
      );
    });
  try {
    await Promise.race([host.ready, interrupted]);
    const failed = await Promise.race([
      Promise.resolve()
        .then(() =>
          runScenario(config, context.token ?? localAdminToken(config), scenario, {
            print,
            report: (report) => {
              if (!options.json)
                for (const line of formatReleaseReport(report)) print(`demo: ${line}`);
            },
            signal: abort.signal,
          }),
        )
        .then((reports) => {
          if (options.json) output.out(`${JSON.stringify({ releases: reports }, null, 2)}\n`);
          return false;
        }, demoFailure(output)),
      hostDied(),
      interrupted,
    ]);
    if (!options.keepRunning) return failed ? 1 : 0;
    print('demo: Rollgate keeps running (Ctrl-C stops it). Try: npx rollgate status');
    return await Promise.race([hostDied(), interrupted]);
  } catch (error) {
    // With --keep-running, Ctrl-C is how it ends (`npm start`): a clean stop, not a failure.
    if (error instanceof Interrupted)
      return options.keepRunning ? 0 : (SIGNAL_EXIT[error.signal] ?? 1);
    if (!(error instanceof HostExitedError)) throw error;
    output.err(`error: ${error.message}\n`);
    return 1;
  } finally {
    abort.abort(new Interrupted('SIGTERM'));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await host.stop();
  }
}

/** A demo that could not go on: said in one line; anything else is a bug and rethrown. */
const demoFailure = (output: CliContext['output']) => (error: unknown) => {
  if (error instanceof ApiError) output.err(`error: demo stopped: ${describeApiError(error)}\n`);
  else if (error instanceof DemoError) output.err(`error: demo stopped: ${error.message}\n`);
  else throw error;
  return true;
};

function localAdminToken(config: RollgateConfig): string {
  try {
    return readFileSync(localAdminTokenPath(config.tokensFile), 'utf8').trim();
  } catch {
    throw new DemoError(
      `no token to release with: set ROLLGATE_TOKEN (or --token) to a token with the deploy scope; ${localAdminTokenPath(config.tokensFile)} is not there`,
    );
  }
}
