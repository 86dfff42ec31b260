import { Command, CommanderError } from 'commander';
import type { RollgateConfig } from '@rollgate/platform';
import type { CliContext, CliOutput } from './context';
import { PROBE_TIMEOUT_MS } from './status/probe-health';
import { statusCommand } from './status/status.command';
import { judgeCommand } from './judge/judge.command';
import { canaryConfigCommand } from './canary-config/canary-config.commands';
import { deployCommand, releaseActionCommands, releaseCommand } from './releases/releases.commands';
import { replayCommand } from './audit/replay.command';
import { flagsCommand } from './flags/flags.commands';
import { auditCommand } from './audit/audit.command';
import { migrateCommand } from './migrate/migrate.commands';
import { compatCommand } from './compat/compat.command';
import { escapeTerminalText } from './output/terminal-text';
import { tokenCommand } from './tokens/token.command';
import { subscriptionsCommand } from './subscriptions/subscriptions.commands';
import { demoCommand } from './demo/demo.command';
import { policyCommands } from './policy/policy.commands';
import { agentCommand } from './agent/agent.command';

export interface CliDependencies {
  config: RollgateConfig;
  output: CliOutput;
  probeTimeoutMs?: number;
}

export const createContext = (deps: CliDependencies): CliContext => ({
  config: deps.config,
  // Every line goes through here, so no command can print user text raw.
  output: {
    out: (text) => deps.output.out(escapeTerminalText(text)),
    err: (text) => deps.output.err(escapeTerminalText(text)),
  },
  token: deps.config.token,
  probeTimeoutMs: deps.probeTimeoutMs ?? PROBE_TIMEOUT_MS,
});

/** The `rollgate` command tree; commands report their exit code through `setExitCode`. */
export function buildProgram(context: CliContext, setExitCode: (code: number) => void): Command {
  const program = new Command('rollgate')
    .description('Rollgate release control plane')
    .option('--token <token>', 'bearer token for mutating commands (default: $ROLLGATE_TOKEN)')
    .configureOutput({ writeOut: context.output.out, writeErr: context.output.err })
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', () => {
      context.token = program.opts<{ token?: string }>().token ?? context.config.token;
    });
  program.addCommand(statusCommand(context, setExitCode));
  program.addCommand(judgeCommand(context, setExitCode));
  program.addCommand(canaryConfigCommand(context, setExitCode));
  program.addCommand(deployCommand(context, setExitCode));
  program.addCommand(releaseCommand(context, setExitCode));
  program.addCommand(compatCommand(context, setExitCode));
  for (const command of releaseActionCommands(context, setExitCode)) program.addCommand(command);
  program.addCommand(replayCommand(context, setExitCode));
  program.addCommand(flagsCommand(context, setExitCode));
  program.addCommand(auditCommand(context, setExitCode));
  program.addCommand(migrateCommand(context, setExitCode));
  program.addCommand(tokenCommand(context, setExitCode));
  program.addCommand(subscriptionsCommand(context, setExitCode));
  program.addCommand(demoCommand(context, setExitCode));
  program.addCommand(agentCommand(context, setExitCode));
  for (const command of policyCommands(context, setExitCode)) program.addCommand(command);
  // addCommand does not pass settings down: every command, at any depth, reports errors the same way.
  const configure = (commands: readonly Command[]): void => {
    for (const command of commands) {
      command
        .exitOverride()
        .configureOutput({ writeOut: context.output.out, writeErr: context.output.err })
        .showHelpAfterError();
      configure(command.commands);
    }
  };
  configure(program.commands);
  return program;
}

/** Runs one invocation and returns its exit code; errors end as a message, never a stack trace. */
export async function runCli(argv: readonly string[], deps: CliDependencies): Promise<number> {
  let exitCode = 0;
  const context = createContext(deps);
  const program = buildProgram(context, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already printed its message (and the help) before throwing.
    if (error instanceof CommanderError) return error.exitCode;
    context.output.err(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
