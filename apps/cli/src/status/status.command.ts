import { Command, InvalidArgumentError } from 'commander';
import { SERVICE_NAMES } from '@rollgate/platform';
import type { CliContext } from '../context';
import { callApi } from '../releases/api-client';
import { formatActiveReleases, type ReleaseView } from '../releases/format-release';
import { formatStatusTable, statusExitCode } from './format-status';
import { probeHealth, type ServiceStatus } from './probe-health';

const CLEAR_SCREEN = '\x1b[2J\x1b[H';

const parseSeconds = (value: string) => {
  const n = Number(value);
  if (!(n >= 0.2 && n <= 3600)) throw new InvalidArgumentError('expected seconds from 0.2 to 3600');
  return n;
};

/** Releases in flight, when the orchestrator answers; otherwise a line saying why not. */
async function activeReleases(context: CliContext, rows: ServiceStatus[]): Promise<string> {
  if (rows.find((row) => row.service === 'orchestrator')?.status !== 'up') {
    return 'releases unknown: the orchestrator is down\n';
  }
  const releases = await callApi<ReleaseView[]>(
    context.config.serviceUrls.orchestrator,
    'GET',
    '/releases',
    undefined,
  ).catch((error: unknown) => error as Error);
  return releases instanceof Error
    ? `releases unknown: ${releases.message}\n`
    : formatActiveReleases(releases);
}

/**
 * `rollgate status [--json] [--watch [seconds]]`: the services' health, then the releases in
 * flight with their progress; `--watch` redraws it until interrupted. The exit code is set
 * through `setExitCode`: 0 only when every service serves (up or degraded).
 */
export function statusCommand(context: CliContext, setExitCode: (code: number) => void): Command {
  return new Command('status')
    .description('Show the health of every Rollgate service and the releases in flight')
    .option('--json', 'print the services’ health as JSON')
    .option(
      '-w, --watch [seconds]',
      'redraw every few seconds (default 2) until Ctrl-C',
      parseSeconds,
    )
    .action(async (options: { json?: boolean; watch?: number | true }) => {
      const { serviceUrls } = context.config;
      const draw = async () => {
        const rows = await Promise.all(
          SERVICE_NAMES.map((service) =>
            probeHealth(service, serviceUrls[service], context.probeTimeoutMs),
          ),
        );
        setExitCode(statusExitCode(rows));
        if (options.json) return `${JSON.stringify(rows, null, 2)}\n`;
        return `${formatStatusTable(rows)}\n\n${await activeReleases(context, rows)}`;
      };
      if (options.watch === undefined) {
        context.output.out(await draw());
        return;
      }
      const everyMs = (options.watch === true ? 2 : options.watch) * 1000;
      for (;;) {
        const screen = await draw();
        // Our own control sequence, written past the output that escapes every other one.
        if (process.stdout.isTTY) process.stdout.write(CLEAR_SCREEN);
        context.output.out(`${new Date().toISOString()}\n${screen}\n`);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    });
}
