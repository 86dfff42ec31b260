import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { CliContext } from '../context';
import { table } from '../output/table';
import { callApi, guarded } from '../releases/api-client';

type ExitCode = (code: number) => void;

interface AppliedView {
  name: string;
  version: number;
  changed: boolean;
}

interface VersionView {
  name: string;
  version: number;
  appliedAt: string;
  appliedBy: string;
  config: { judge?: { name?: string }; metrics?: { name: string }[] };
}

const path = (name: string, rest = '') => `/canary-configs/${encodeURIComponent(name)}${rest}`;

/** The `name` a config file gives itself, if it parses and has one. */
function nameIn(text: string): string | undefined {
  try {
    const decoded = parseYaml(text, { maxAliasCount: 0 }) as { name?: unknown } | null;
    return typeof decoded?.name === 'string' ? decoded.name : undefined;
  } catch {
    return undefined; // the analysis service names the problem when the file is sent
  }
}

/** `rollgate canary-config apply|get|history`: the versioned configs that judge canaries. */
export function canaryConfigCommand(context: CliContext, setExitCode: ExitCode): Command {
  const command = new Command('canary-config').description(
    'Canary configs: the metrics, weights and judge that decide a canary (versioned)',
  );
  const analysis = <T>(method: 'GET' | 'PUT', route: string, body?: unknown) =>
    callApi<T>(context.config.serviceUrls.analysis, method, route, context.token, body);
  const fail = (message: string) => {
    context.output.err(`error: ${message}\n`);
    setExitCode(2);
  };

  command
    .command('apply')
    .description('Apply a config file (YAML or JSON); a new version only if something changed')
    .requiredOption('-f, --file <file>', 'the canary config (.yaml, .yml or .json)')
    .option('--name <name>', 'config name (default: `name` in the file)')
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { file: string; name?: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(options.file, 'utf8');
      } catch (error) {
        return fail(`cannot read ${options.file}: ${(error as Error).message}`);
      }
      const name = options.name ?? nameIn(text);
      if (!name) return fail(`give --name, or set name in ${basename(options.file)}`);
      await guarded(context, setExitCode, async () => {
        const applied = await analysis<AppliedView>('PUT', path(name), { config: text });
        if (options.json) return context.output.out(`${JSON.stringify(applied, null, 2)}\n`);
        context.output.out(
          applied.changed
            ? `canary config ${applied.name}: version ${applied.version} applied; releases that start from now on use it\n`
            : `canary config ${applied.name}: unchanged (version ${applied.version})\n`,
        );
      });
    });

  command
    .command('get')
    .description('Print the version in force (now, or at a past moment) as YAML')
    .argument('<name>', 'config name')
    .option('--at <iso>', 'the moment, e.g. 2026-12-01T10:00:00Z (default: now)')
    .option('--json', 'print the API answer as JSON')
    .action(async (name: string, options: { at?: string; json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const query = options.at ? `?at=${encodeURIComponent(options.at)}` : '';
        const found = await analysis<VersionView>('GET', path(name, query));
        if (options.json) return context.output.out(`${JSON.stringify(found, null, 2)}\n`);
        context.output.out(
          `# canary config ${found.name} version ${found.version}, applied ${found.appliedAt} by ${found.appliedBy}\n${toYaml(found.config)}`,
        );
      });
    });

  command
    .command('history')
    .description('Every version: when, by whom, which judge and metrics')
    .argument('<name>', 'config name')
    .option('--json', 'print the API answer as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const versions = await analysis<VersionView[]>('GET', path(name, '/versions'));
        if (options.json) return context.output.out(`${JSON.stringify(versions, null, 2)}\n`);
        context.output.out(
          table(
            ['VERSION', 'APPLIED', 'BY', 'JUDGE', 'METRICS'],
            versions.map((v) => [
              String(v.version),
              v.appliedAt,
              v.appliedBy,
              v.config.judge?.name ?? 'sequential',
              (v.config.metrics ?? []).map((m) => m.name).join(', '),
            ]),
          ),
        );
      });
    });
  return command;
}
