import { Command } from 'commander';
import { SERVICE_NAMES } from '@rollgate/platform';
import type { CliContext } from '../context';
import { formatStatusTable, statusExitCode } from './format-status';
import { probeHealth } from './probe-health';

/** `rollgate status [--json]`: sets the exit code through `setExitCode`. */
export function statusCommand(context: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('status')
    .description('Show the health of every Rollgate service')
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const { serviceUrls } = context.config;
      const rows = await Promise.all(
        SERVICE_NAMES.map((service) =>
          probeHealth(service, serviceUrls[service], context.probeTimeoutMs),
        ),
      );
      const text = options.json ? JSON.stringify(rows, null, 2) : formatStatusTable(rows);
      context.output.out(`${text}\n`);
      setExitCode(statusExitCode(rows));
    });
}
