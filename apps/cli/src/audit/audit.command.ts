import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { parseCut, renderPostmortemHtml, ReplayCutError } from '@rollgate/audit';
import { SERVICE_NAMES, type ServiceName } from '@rollgate/platform';
import type { CliContext } from '../context';
import { AuditLogError, openAuditLog, REPLAY_EXIT, replayFromLog } from './audit-log';
import { serviceReadModels } from './read-models';
import { formatDifferences, rebuildReadModels } from './rebuild';

type ExitCode = (code: number) => void;

/** Exit codes of `audit rebuild --verify`: 1 the read models differ from the log. */
export const AUDIT_EXIT = { differs: 1, ...REPLAY_EXIT } as const;

const parseCount = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('expected a whole number above 0');
  return n;
};

const parseServices = (value: string): ServiceName[] => {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown service ${unknown.join(', ')} (one of ${SERVICE_NAMES.join(', ')})`,
    );
  }
  return names as ServiceName[];
};

function rebuildCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('rebuild')
    .description(
      "Rebuild every service's read models from the log into a fresh schema; with --verify compare them with the live ones row by row",
    )
    .option('--verify', 'compare with the live read models; exit 1 on any difference')
    .option('--keep', 'keep the rebuilt schema or file after verifying')
    .option('--services <names>', 'only these services, comma-separated', parseServices)
    .option('--progress-every <n>', 'a progress line every N events (default 50000)', parseCount)
    .action(
      async (options: {
        verify?: boolean;
        keep?: boolean;
        services?: ServiceName[];
        progressEvery?: number;
      }) => {
        let log;
        try {
          log = openAuditLog(context.config);
        } catch (error) {
          if (!(error instanceof AuditLogError)) throw error;
          context.output.err(`error: ${error.message}\n`);
          return setExitCode(AUDIT_EXIT.usage);
        }
        try {
          const all = await serviceReadModels();
          const wanted = options.services ?? [...SERVICE_NAMES];
          const services = Object.fromEntries(wanted.map((s) => [s, all[s]]));
          const results = await rebuildReadModels({
            config: context.config,
            log,
            services,
            verify: options.verify === true,
            keep: options.keep === true,
            progress: (line) => context.output.err(`${line}\n`),
            ...(options.progressEvery ? { progressEvery: options.progressEvery } : {}),
          });
          for (const result of results) {
            for (const message of result.malformed) context.output.err(`skipped ${message}\n`);
            if (result.skipped) {
              context.output.out(`${result.service}: skipped, ${result.skipped}\n`);
              continue;
            }
            const rows = result.tables.map((t) => `${t.table} ${t.rows}`).join(', ');
            const verdict = !options.verify
              ? `rebuilt into ${result.target}`
              : result.differences.length === 0
                ? 'matches the log'
                : `${result.differences.length} difference(s)`;
            context.output.out(
              `${result.service}: ${result.events} events; rows ${rows}; ${verdict}\n`,
            );
          }
          const differences = results.flatMap((r) => r.differences);
          if (differences.length > 0) {
            context.output.out(`\n${formatDifferences(differences)}\n`);
            context.output.err(
              `error: ${differences.length} read-model row(s) differ from what the log says\n`,
            );
            return setExitCode(AUDIT_EXIT.differs);
          }
          setExitCode(0);
        } finally {
          await log.close();
        }
      },
    );
}

function exportCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('export')
    .description(
      'Write an offline postmortem page of a release: timeline, route weights, baseline-vs-canary charts',
    )
    .requiredOption('--release <id>', 'a release id')
    .requiredOption('--out <file.html>', 'where to write the page')
    .option('--at <iso-time>', 'the release as of this instant')
    .option('--skip-invalid', 'report malformed or unknown events and go on (default: stop)')
    .action(
      async (options: { release: string; out: string; at?: string; skipInvalid?: boolean }) => {
        let cut;
        try {
          cut = parseCut(options.at !== undefined ? { at: options.at } : {});
        } catch (error) {
          if (!(error instanceof ReplayCutError)) throw error;
          context.output.err(`error: ${error.message}\n`);
          return setExitCode(AUDIT_EXIT.usage);
        }
        const ref = { kind: 'release' as const, id: options.release };
        const report = await replayFromLog(
          context,
          setExitCode,
          ref,
          cut,
          options.skipInvalid === true,
        );
        if (!report) return;
        await writeFile(options.out, renderPostmortemHtml(report), 'utf8');
        context.output.out(
          `wrote ${options.out}: ${report.events.replayed} events of release ${options.release}\n`,
        );
        setExitCode(0);
      },
    );
}

/** `rollgate audit ...`: proofs that the live state is what the log says. */
export function auditCommand(context: CliContext, setExitCode: ExitCode): Command {
  const audit = new Command('audit').description(
    'Audit the log: rebuild read models and verify them, export a release postmortem',
  );
  audit.addCommand(rebuildCommand(context, setExitCode));
  audit.addCommand(exportCommand(context, setExitCode));
  for (const command of audit.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: context.output.out, writeErr: context.output.err })
      .showHelpAfterError();
  }
  return audit;
}
