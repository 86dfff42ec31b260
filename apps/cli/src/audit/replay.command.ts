import { Command, Option } from 'commander';
import {
  parseCut,
  renderReportJson,
  renderReportText,
  ReplayCutError,
  type SubjectRef,
} from '@rollgate/audit';
import type { CliContext } from '../context';
import { REPLAY_EXIT, replayFromLog } from './audit-log';

type ExitCode = (code: number) => void;

interface ReplayOptions {
  release?: string;
  flag?: string;
  migration?: string;
  at?: string;
  offset?: string;
  json?: boolean;
  skipInvalid?: boolean;
}

export function subjectRefOf(options: ReplayOptions): SubjectRef {
  const given = (
    [
      ['release', options.release],
      ['flag', options.flag],
      ['migration', options.migration],
    ] as const
  ).filter(([, id]) => id !== undefined);
  if (given.length !== 1) {
    throw new ReplayCutError('name exactly one of --release ID, --flag NAME, --migration ID');
  }
  const [kind, id] = given[0]!;
  return { kind, id: id! };
}

/** `rollgate replay --release ID [--at ISO | --offset N] [--json] [--skip-invalid]`. */
export function replayCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('replay')
    .description(
      'Rebuild a release (or flag, or migration) from the event log at a moment, with its timeline',
    )
    .option('--release <id>', 'a release id')
    .option('--flag <name>', 'a feature flag: key (default project) or project/key')
    .option('--migration <id>', 'a migration id')
    .addOption(new Option('--at <iso-time>', 'state as of this instant').conflicts('offset'))
    .option('--offset <n>', 'state after the first N events of the timeline')
    .option('--json', 'print JSON instead of text')
    .option('--skip-invalid', 'report malformed or unknown events and go on (default: stop)')
    .action(async (options: ReplayOptions) => {
      let ref: SubjectRef;
      let cut;
      try {
        ref = subjectRefOf(options);
        cut = parseCut({
          ...(options.at !== undefined ? { at: options.at } : {}),
          ...(options.offset !== undefined ? { offset: options.offset } : {}),
        });
      } catch (error) {
        if (!(error instanceof ReplayCutError)) throw error;
        context.output.err(`error: ${error.message}\n`);
        return setExitCode(REPLAY_EXIT.usage);
      }
      const report = await replayFromLog(
        context,
        setExitCode,
        ref,
        cut,
        options.skipInvalid === true,
      );
      if (!report) return;
      context.output.out(options.json ? renderReportJson(report) : renderReportText(report));
      setExitCode(0);
    });
}
