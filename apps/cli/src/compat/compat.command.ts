import { readFileSync, statSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CliContext } from '../context';
import { callApi, guarded } from '../releases/api-client';

type ExitCode = (code: number) => void;

/** Larger than the API's request body limit: the API names what is too large, not the CLI. */
const MAX_FILE_BYTES = 1024 * 1024;

/** An API document from a file: JSON, or YAML (OpenAPI documents are often YAML). */
export function readDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    if (statSync(file).size > MAX_FILE_BYTES)
      throw new InvalidArgumentError(`${file} is larger than ${MAX_FILE_BYTES / 1024} KB`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(`cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/i.test(file) ? parseYaml(text, { maxAliasCount: 100 }) : JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(
      `${file} is not valid JSON or YAML: ${(error as Error).message}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError(`${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

export interface GateView {
  verdict: string;
  findings: string[];
  notes: string[];
  overridden?: { by: string; reason: string } | null;
  policy?: string;
}

/** The gate's verdict for people: one headline, then each finding and note on its own line. */
export function formatGate(gate: GateView, held = false): string {
  const headline =
    gate.verdict !== 'breaking'
      ? gate.verdict
      : gate.overridden
        ? `BREAKING, forced by ${gate.overridden.by}: ${gate.overridden.reason}`
        : held
          ? `BREAKING: held until the builds it breaks are gone (policy ${gate.policy})`
          : 'BREAKING';
  return [
    `api     ${headline}`,
    ...gate.findings.map((f) => `  - ${f}`),
    ...gate.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

interface CompatAnswer extends GateView {
  service: string;
  version: string;
  compatible: boolean;
}

/** `rollgate compat check`: the release gate's question for CI, without releasing. */
export function compatCommand(context: CliContext, setExitCode: ExitCode): Command {
  const compat = new Command('compat').description(
    'API compatibility of a build with the builds that are live (docs/adr/0012)',
  );
  compat
    .command('check')
    .description('Would this build break a live consumer or provider? Exit 0 if not, 1 if it would')
    .requiredOption('-s, --service <name>', 'the service the build belongs to')
    .option(
      '--provides <file>',
      'OpenAPI 3 document the build provides (JSON or YAML)',
      readDocument,
    )
    .option('--consumes <file>', 'consumer contract or Pact file of the build', readDocument)
    .option('--version-label <label>', 'version label the findings name', 'new')
    .option('--json', 'print the answer as JSON')
    .action(async (options: Record<string, unknown>) =>
      guarded(context, setExitCode, async () => {
        if (!options['provides'] && !options['consumes']) {
          context.output.err('error: give --provides, --consumes or both\n');
          return setExitCode(2);
        }
        const answer = await callApi<CompatAnswer>(
          context.config.serviceUrls.orchestrator,
          'POST',
          '/compat/check',
          context.token,
          {
            service: options['service'],
            version: options['versionLabel'],
            ...(options['provides'] ? { provides: options['provides'] } : {}),
            ...(options['consumes'] ? { consumes: options['consumes'] } : {}),
          },
        );
        context.output.out(
          options['json']
            ? `${JSON.stringify(answer, null, 2)}\n`
            : `${answer.service} ${answer.version}\n${formatGate(answer)}\n`,
        );
        if (!answer.compatible) setExitCode(1);
      }),
    );
  return compat;
}
