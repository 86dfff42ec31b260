import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { HOST_NAME_PATTERN } from '@rollgate/contracts';
import { FleetAgent, type BuildProfile } from '@rollgate/fleet';
import { openEventLog } from '@rollgate/platform';
import type { CliContext } from '../context';

type ExitCode = (code: number) => void;

/** Workspace root: agents run apps/sample-service from here. */
const ROOT = resolve(__dirname, '../../../..');

const wholeNumber =
  (min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    return n;
  };

const hostName = (value: string): string => {
  if (!new RegExp(HOST_NAME_PATTERN).test(value))
    throw new InvalidArgumentError('expected lower-case letters, digits, dots and dashes');
  return value;
};

/** `rollgate agent`: runs this host's share of the fleet until it is stopped (ADR 0016). */
export function agentCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('agent')
    .description(
      'Run fleet instances on this host: takes the instance commands for --host from the event log (Kafka), runs them as processes and reports them (ROLLGATE_FLEET=agents)',
    )
    .requiredOption(
      '--host <name>',
      'this host, as the fleet driver places instances on it',
      hostName,
    )
    .requiredOption('--capacity <n>', 'instances this host runs at most', wholeNumber(0))
    .option('--address <address>', 'where other hosts reach its instances', '127.0.0.1')
    .option(
      '--data-dir <dir>',
      'its state file and instance logs (default: <data dir>/agents/<host>)',
    )
    .addOption(
      new Option('--heartbeat-ms <ms>', 'how often it reports')
        .default(2000)
        .argParser(wholeNumber(100)),
    )
    .addOption(
      new Option(
        '--lost-after-ms <ms>',
        'silence after which drivers count it as lost (default: 5 heartbeats)',
      ).argParser(wholeNumber(200)),
    )
    .action(
      async (options: {
        host: string;
        capacity: number;
        address: string;
        dataDir?: string;
        heartbeatMs: number;
        lostAfterMs?: number;
      }) => {
        const { config, output } = context;
        if (config.eventLog !== 'kafka') {
          output.err(
            'rollgate agent needs the Kafka event log (ROLLGATE_MODE=production or ROLLGATE_EVENT_LOG=kafka): agents on other hosts share it\n',
          );
          setExitCode(2);
          return;
        }
        const profiles = config.fleetProfilesFile
          ? new Map(
              Object.entries(
                JSON.parse(readFileSync(config.fleetProfilesFile, 'utf8')) as Record<
                  string,
                  BuildProfile
                >,
              ),
            )
          : new Map<string, BuildProfile>();
        const log = openEventLog(config, `rollgate-agent-${options.host}`);
        const agent = new FleetAgent({
          log,
          host: options.host,
          capacity: options.capacity,
          address: options.address,
          dataDir: resolve(options.dataDir ?? join(config.dataDir, 'agents', options.host)),
          root: ROOT,
          profiles,
          heartbeatMs: options.heartbeatMs,
          ...(options.lostAfterMs !== undefined ? { lostAfterMs: options.lostAfterMs } : {}),
          report: (line) => output.out(`${line}\n`),
        });
        await agent.start();
        await new Promise<void>((done) => {
          process.once('SIGTERM', done);
          process.once('SIGINT', done);
        });
        // Its instances keep running: the next start of this agent adopts them.
        await agent.close();
        await log.close();
        output.out(
          `agent ${options.host} stopped; ${agent.instances().length} instances left running\n`,
        );
      },
    );
}
