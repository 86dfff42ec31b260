import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context';
import { ApiError, callApi, guarded } from '../releases/api-client';
import { table } from '../output/table';

type ExitCode = (code: number) => void;

interface FlagView {
  project: string;
  key: string;
  type: string;
  owner: string;
  expiresAt: string | null;
  enabledIn: string[];
  retired: boolean;
  definition: { environments: Record<string, Record<string, unknown>> };
}

interface StaleView {
  project: string;
  key: string;
  type: string;
  owner: string;
  potentiallyStaleAt: string | null;
  expiresAt: string | null;
  expired: boolean;
}

interface Evaluation {
  value: boolean;
  variant?: { name: string; payload?: unknown };
  reason: string;
  errorCode?: string;
  rulesetVersion: number;
  explanation: string;
}

interface RampView {
  rampId: string;
  flagKey: string;
  environment: string;
  steps: number[];
  stepSeconds: number;
  judge: string;
  status: string;
  step: number;
  percentage: number;
  currentRollout: number;
  stepStartedAt: string;
  currentStep: {
    on: { requests: number; errors: number };
    off: { requests: number; errors: number };
  };
  decisions: { type: string; at: string; step: number; verdict?: string; reasons: string[] }[];
}

interface Accepted {
  project: string;
  key: string;
  rulesetVersion: number;
  eventIds: string[];
}

/** JSON over HTTP to the flags service; a failure becomes an ApiError with the server's words. */
const flagsApi = <T>(
  context: CliContext,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> => callApi<T>(context.config.serviceUrls.flags, method, path, context.token, body);

/** The fields that were given: an option left out (undefined, empty, false) is not sent. */
function given(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([, v]) => v !== undefined && v !== null && v !== '' && v !== false,
    ),
  );
}

function parseJsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected JSON, e.g. \'{"userId":"u-42"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function parseJsonList(value: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON list');
  }
  if (!Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON list');
  return parsed;
}

function parsePercentage(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) {
    throw new InvalidArgumentError('expected a whole percentage from 0 to 100');
  }
  return n;
}

function parseSteps(value: string): number[] {
  const steps = value.split(',').map((part) => Number(part.trim()));
  if (steps.length < 2 || !steps.every((n) => Number.isInteger(n) && n >= 1 && n <= 100)) {
    throw new InvalidArgumentError(
      'expected whole percentages separated by commas, e.g. 5,25,50,100',
    );
  }
  return steps;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected whole seconds');
  return n;
}

function parseVersion(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a ruleset version');
  return n;
}

const inProject = (path: string, project: string | undefined) =>
  project ? `${path}?project=${encodeURIComponent(project)}` : path;

const flagPath = (key: string, suffix = '') => `/flags/${encodeURIComponent(key)}${suffix}`;

/**
 * `rollgate flags …`: create, update, rollout, kill, retire, extend, list, stale, eval, and the
 * guarded rollout (ramp, ramp-status, ramp-cancel).
 */
export function flagsCommand(context: CliContext, setExitCode: ExitCode): Command {
  const flags = new Command('flags').description('Feature flags: rules, rollouts, kill switch');
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<void>) =>
    (...args: A) =>
      guarded(context, setExitCode, () => action(...args));
  const done = (answer: Accepted, what: string) =>
    context.output.out(
      `${what} ${answer.project}/${answer.key} (ruleset version ${answer.rulesetVersion})\n`,
    );

  flags
    .command('create')
    .description('Create a flag, off in every environment')
    .argument('<name>', 'flag key')
    .requiredOption(
      '-t, --type <type>',
      'release | experiment | operational | kill-switch | permission',
    )
    .requiredOption('-o, --owner <owner>', 'who answers for the flag')
    .option('-d, --description <text>')
    .option('--expires <date>', 'ISO 8601 expiry (default: 40 days for release and experiment)')
    .option('-p, --project <name>', 'project (default: default)')
    .option('-r, --reason <why>', 'recorded on the event')
    .action(
      run(async (name: string, o: Record<string, string | undefined>) => {
        const answer = await flagsApi<Accepted>(context, 'POST', '/flags', {
          key: name,
          type: o['type'],
          owner: o['owner'],
          ...given({
            project: o['project'],
            description: o['description'],
            expiresAt: o['expires'],
            reason: o['reason'],
          }),
        });
        done(answer, 'created');
      }),
    );

  flags
    .command('update')
    .description("Set a flag's rules in one environment, or switch it on or off there")
    .argument('<name>', 'flag key')
    .requiredOption('-e, --env <environment>', 'environment')
    .option('--config <json>', 'the whole environment configuration as JSON', parseJsonObject)
    .option('--on', 'switch on, keeping the rules')
    .option('--off', 'switch off, keeping the rules')
    .option('--force', 'turn on although live builds do not declare the flag (needs --reason)')
    .option('-p, --project <name>')
    .option('-r, --reason <why>', 'recorded on the event')
    .action(
      run(async (name: string, o: Record<string, unknown>) => {
        const project = o['project'] as string | undefined;
        const env = o['env'] as string;
        let config = o['config'] as Record<string, unknown> | undefined;
        if (!config && (o['on'] || o['off'])) {
          const flag = await flagsApi<FlagView>(context, 'GET', inProject(flagPath(name), project));
          config = { ...(flag.definition.environments[env] ?? {}), enabled: Boolean(o['on']) };
        }
        if (!config) throw new ApiError(0, 'give --config <json>, --on or --off');
        const answer = await flagsApi<Accepted>(
          context,
          'PUT',
          inProject(flagPath(name, `/environments/${encodeURIComponent(env)}`), project),
          {
            ...config,
            ...given({ reason: o['reason'], force: o['force'] === true }),
          },
        );
        done(answer, 'updated');
      }),
    );

  flags
    .command('rollout')
    .description('Set the percentage rollout of a flag in one environment')
    .argument('<name>', 'flag key')
    .argument('<percentage>', '0..100', parsePercentage)
    .requiredOption('-e, --env <environment>', 'environment')
    .option('-p, --project <name>')
    .option('-r, --reason <why>')
    .action(
      run(async (name: string, percentage: number, o: Record<string, string | undefined>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'POST',
          inProject(flagPath(name, '/rollout'), o['project']),
          { environment: o['env'], percentage, ...given({ reason: o['reason'] }) },
        );
        done(answer, `rollout ${percentage}% for`);
      }),
    );

  flags
    .command('kill')
    .description('Kill switch: turn a flag off in one environment, pushed to every SDK')
    .argument('<name>', 'flag key')
    .requiredOption('-e, --env <environment>', 'environment')
    .requiredOption('-r, --reason <why>', 'recorded on the event')
    .option('-p, --project <name>')
    .action(
      run(async (name: string, o: Record<string, string | undefined>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'POST',
          inProject(flagPath(name, '/kill'), o['project']),
          { environment: o['env'], reason: o['reason'] },
        );
        done(answer, answer.eventIds.length > 0 ? 'killed' : 'already off:');
      }),
    );

  flags
    .command('retire')
    .description('Archive a flag; its name can never be used again')
    .argument('<name>', 'flag key')
    .requiredOption('-r, --reason <why>', 'recorded on the event')
    .option('-p, --project <name>')
    .action(
      run(async (name: string, o: Record<string, string | undefined>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'POST',
          inProject(flagPath(name, '/retire'), o['project']),
          { reason: o['reason'] },
        );
        done(answer, 'retired');
      }),
    );

  flags
    .command('extend')
    .description("Move a flag's expiry date")
    .argument('<name>', 'flag key')
    .requiredOption('--until <date>', 'new ISO 8601 expiry')
    .option('-p, --project <name>')
    .option('-r, --reason <why>')
    .action(
      run(async (name: string, o: Record<string, string | undefined>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'POST',
          inProject(flagPath(name, '/extend'), o['project']),
          { expiresAt: o['until'], ...given({ reason: o['reason'] }) },
        );
        done(answer, `extended to ${o['until']}:`);
      }),
    );

  flags
    .command('segment')
    .description('Create a segment or replace its constraints; rules use it by name')
    .argument('<name>', 'segment key')
    .requiredOption('--constraints <json>', 'JSON list of constraints', parseJsonList)
    .option('-d, --description <text>')
    .option('-p, --project <name>')
    .option('-r, --reason <why>')
    .action(
      run(async (name: string, o: Record<string, unknown>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'PUT',
          inProject(
            `/flags/segments/${encodeURIComponent(name)}`,
            o['project'] as string | undefined,
          ),
          {
            constraints: o['constraints'],
            ...given({ description: o['description'], reason: o['reason'] }),
          },
        );
        done(answer, 'segment defined:');
      }),
    );

  flags
    .command('list')
    .description('Flags of a project')
    .option('-p, --project <name>')
    .option('--retired', 'include retired flags')
    .option('--json', 'print JSON')
    .action(
      run(async (o: { project?: string; retired?: boolean; json?: boolean }) => {
        const query = new URLSearchParams({
          ...(o.project ? { project: o.project } : {}),
          ...(o.retired ? { retired: 'true' } : {}),
        }).toString();
        const list = await flagsApi<FlagView[]>(
          context,
          'GET',
          `/flags${query ? `?${query}` : ''}`,
        );
        if (o.json) return context.output.out(`${JSON.stringify(list, null, 2)}\n`);
        context.output.out(
          table(
            ['FLAG', 'TYPE', 'OWNER', 'ON IN', 'EXPIRES'],
            list.map((f) => [
              f.retired ? `${f.key} (retired)` : f.key,
              f.type,
              f.owner,
              f.enabledIn.join(',') || '-',
              f.expiresAt ?? 'never',
            ]),
          ),
        );
      }),
    );

  flags
    .command('stale')
    .description('Potentially stale and expired flags (flag debt)')
    .option('-p, --project <name>', 'one project (default: all)')
    .option('--json', 'print JSON')
    .action(
      run(async (o: { project?: string; json?: boolean }) => {
        const list = await flagsApi<StaleView[]>(
          context,
          'GET',
          inProject('/flags/stale', o.project),
        );
        if (o.json) return context.output.out(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return context.output.out('no stale flags\n');
        context.output.out(
          table(
            ['PROJECT', 'FLAG', 'TYPE', 'OWNER', 'STATE', 'SINCE'],
            list.map((f) => [
              f.project,
              f.key,
              f.type,
              f.owner,
              f.expired ? 'expired' : 'potentially stale',
              (f.expired ? f.expiresAt : f.potentiallyStaleAt) ?? '',
            ]),
          ),
        );
      }),
    );

  flags
    .command('eval')
    .description('Evaluate a flag for a context on the server and say why')
    .argument('<name>', 'flag key')
    .option('-c, --context <json>', 'evaluation context', parseJsonObject, {})
    .option('-e, --env <environment>', 'environment', 'production')
    .option('--at <instant>', 'replay: with the rules as they were then (ISO 8601 with a zone)')
    .option('--ruleset-version <n>', 'replay: with this ruleset version', parseVersion)
    .option('-p, --project <name>')
    .option('--json', 'print JSON')
    .action(
      run(async (name: string, o: Record<string, unknown>) => {
        const result = await flagsApi<Evaluation>(
          context,
          'POST',
          inProject(flagPath(name, '/evaluate'), o['project'] as string | undefined),
          {
            environment: o['env'],
            context: o['context'],
            ...given({ at: o['at'], version: o['rulesetVersion'] }),
          },
        );
        if (o['json']) return context.output.out(`${JSON.stringify(result, null, 2)}\n`);
        context.output.out(formatEvaluation(name, result));
      }),
    );

  flags
    .command('ramp')
    .description(
      'Guarded rollout: ramp the percentage step by step, judged on flag-on vs flag-off outcomes; a regression turns it back to 0%',
    )
    .argument('<name>', 'flag key')
    .requiredOption('-e, --env <environment>', 'environment')
    .option('--steps <list>', 'percentages, e.g. 5,25,50,100 (the default)', parseSteps)
    .option(
      '--step-seconds <n>',
      'how long each step is judged at least (default 60)',
      parseSeconds,
    )
    .option('--judge <name>', 'sequential (default), kayenta or threshold')
    .option('-p, --project <name>')
    .option('-r, --reason <why>', 'recorded on the event')
    .action(
      run(async (name: string, o: Record<string, unknown>) => {
        const answer = await flagsApi<Accepted>(
          context,
          'POST',
          inProject(flagPath(name, '/guarded-rollout'), o['project'] as string | undefined),
          {
            environment: o['env'],
            ...given({
              steps: o['steps'],
              stepSeconds: o['stepSeconds'],
              judge: o['judge'],
              reason: o['reason'],
            }),
          },
        );
        done(answer, 'guarded rollout started for');
      }),
    );

  flags
    .command('ramp-status')
    .description("A flag's latest guarded rollout in an environment and its decisions")
    .argument('<name>', 'flag key')
    .requiredOption('-e, --env <environment>', 'environment')
    .option('-p, --project <name>')
    .option('--json', 'print JSON')
    .action(
      run(async (name: string, o: Record<string, string | boolean | undefined>) => {
        const base = inProject(flagPath(name, '/guarded-rollout'), o['project'] as string);
        const separator = base.includes('?') ? '&' : '?';
        const env = encodeURIComponent(String(o['env']));
        const ramp = await flagsApi<RampView>(
          context,
          'GET',
          `${base}${separator}environment=${env}`,
        );
        if (o['json']) return context.output.out(`${JSON.stringify(ramp, null, 2)}\n`);
        context.output.out(formatRamp(ramp));
      }),
    );

  flags
    .command('ramp-cancel')
    .description('Stop a running guarded rollout; the rollout stays where it is')
    .argument('<name>', 'flag key')
    .requiredOption('-e, --env <environment>', 'environment')
    .option('-p, --project <name>')
    .option('-r, --reason <why>', 'recorded on the event')
    .action(
      run(async (name: string, o: Record<string, string | undefined>) => {
        const base = inProject(flagPath(name, '/guarded-rollout'), o['project']);
        const separator = base.includes('?') ? '&' : '?';
        const query = new URLSearchParams({
          environment: o['env'] ?? '',
          ...given({ reason: o['reason'] }),
        });
        const answer = await flagsApi<Accepted>(context, 'DELETE', `${base}${separator}${query}`);
        done(answer, 'guarded rollout cancelled for');
      }),
    );

  // Subcommands copy their parent's settings when created, before the program sets them.
  for (const command of flags.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: context.output.out, writeErr: context.output.err })
      .showHelpAfterError();
  }
  return flags;
}

export function formatEvaluation(name: string, result: Evaluation): string {
  const value = result.value ? 'on' : 'off';
  const variant = result.variant ? ` (variant ${result.variant.name})` : '';
  const error = result.errorCode ? ` [${result.errorCode}]` : '';
  return (
    `${name}: ${value}${variant}\n` +
    `  why: ${result.reason}${error}: ${result.explanation}\n` +
    `  ruleset version: ${result.rulesetVersion}\n`
  );
}

export function formatRamp(ramp: RampView): string {
  const { on, off } = ramp.currentStep;
  const rate = (c: { requests: number; errors: number }) =>
    c.requests > 0 ? ` (${((100 * c.errors) / c.requests).toFixed(2)}% errors)` : '';
  const lines = [
    `${ramp.flagKey} in ${ramp.environment}: ${ramp.status}, step ${ramp.step + 1} of ${ramp.steps.length} (${ramp.percentage}%), rollout now ${ramp.currentRollout}%`,
    `  steps ${ramp.steps.join(', ')}%, ${ramp.stepSeconds} s each, judge ${ramp.judge}, ramp ${ramp.rampId}`,
  ];
  if (ramp.status === 'running') {
    lines.push(
      `  this step: flag on ${on.requests} requests${rate(on)}, flag off ${off.requests} requests${rate(off)}`,
    );
  }
  for (const d of ramp.decisions) {
    const verdict = d.verdict ? ` ${d.verdict}` : '';
    lines.push(`  ${d.at}  ${d.type} at ${ramp.steps[d.step]}%${verdict}: ${d.reasons.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}
