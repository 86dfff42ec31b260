import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context';
import { formatGate, readDocument } from '../compat/compat.command';
import { ApiError, callApi, guarded } from './api-client';
import {
  formatLastInterval,
  formatRelease,
  formatReleaseList,
  hasEnded,
  type ReleaseView,
} from './format-release';

type ExitCode = (code: number) => void;

/** NAME@sha256:<64 hex>: a release names immutable bytes, never a tag. */
export function parseArtifact(value: string): { name: string; digest: string } {
  const match = /^(.+)@(sha256:[a-f0-9]{64})$/.exec(value);
  if (!match) {
    throw new InvalidArgumentError(
      'expected NAME@sha256:<64 hex digits> (a digest, not a tag such as :latest)',
    );
  }
  return { name: match[1]!, digest: match[2]! };
}

export function parseSteps(value: string): number[] {
  const steps = value.split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isInteger(s)))
    throw new InvalidArgumentError('expected integers such as 5,25,50');
  return steps;
}

const parseInteger = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected an integer');
  return n;
};

const orchestrator = (context: CliContext) => context.config.serviceUrls.orchestrator;

const WATCH_INTERVAL_MS = 1_000;

/**
 * The release's latest scored analysis interval, from its timeline; null when it has none or the
 * timeline cannot be read (the release itself is still shown).
 */
async function lastInterval(
  context: CliContext,
  releaseId: string,
): Promise<Record<string, unknown> | null> {
  const answer = await callApi<{ timeline?: { type: string; details: Record<string, unknown> }[] }>(
    orchestrator(context),
    'GET',
    `/releases/${encodeURIComponent(releaseId)}/timeline`,
    context.token,
  ).catch(() => null);
  const scored = (answer?.timeline ?? []).filter((e) => e.type === 'AnalysisIntervalScored');
  return scored.at(-1)?.details ?? null;
}

const getRelease = (context: CliContext, releaseId: string) =>
  callApi<ReleaseView>(
    orchestrator(context),
    'GET',
    `/releases/${encodeURIComponent(releaseId)}`,
    undefined,
  );

/**
 * Follows a release live: prints its progress block each time it changes, until it ends. Exit
 * code 0 when it succeeded, 1 when it was rolled back or aborted, so a pipeline step can wait on it.
 */
async function watchRelease(context: CliContext, setExitCode: ExitCode, releaseId: string) {
  let shown = '';
  for (;;) {
    const release = await getRelease(context, releaseId).catch((error: unknown) => {
      // Just created: the read model may not have it yet.
      if (error instanceof ApiError && error.status === 404 && shown === '') return undefined;
      throw error;
    });
    if (release) {
      const text = formatRelease(release);
      if (text !== shown) context.output.out(`${shown ? '\n' : ''}${text}`);
      shown = text;
      if (hasEnded(release)) {
        if (release.phase !== 'succeeded') setExitCode(1);
        return;
      }
    }
    await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
  }
}

export function deployCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('deploy')
    .description('Start a release of a digest-pinned build')
    .requiredOption('-s, --service <name>', 'service to release')
    .requiredOption(
      '-a, --artifact <name@digest>',
      'build to release, NAME@sha256:<digest>',
      parseArtifact,
    )
    .option(
      '--strategy <strategy>',
      "canary | rolling | blue-green (default: the service policy's, else canary)",
    )
    .option('--version-label <label>', 'version label for people (the digest identifies the build)')
    .option('--steps <weights>', 'canary shares, e.g. 5,25,50', parseSteps)
    .option('--step-seconds <seconds>', 'observation time per canary step', parseInteger)
    .option('--replicas <n>', 'instances when done', parseInteger)
    .option('--max-surge <n>', 'rolling: instances replaced per batch', parseInteger)
    .option(
      '--flags <keys>',
      'feature flags this build reads, a,b (the flag enablement guard checks live builds)',
      (value: string) =>
        value
          .split(',')
          .map((key) => key.trim())
          .filter(Boolean),
    )
    .option('--first', "the service's first release: it takes all traffic at once (docs/adr/0010)")
    .option('--provides <file>', 'OpenAPI 3 document the build provides (API gate)', readDocument)
    .option(
      '--consumes <file>',
      'consumer contract or Pact file of the build (API gate)',
      readDocument,
    )
    .option('--api-policy <policy>', 'breaking a live build: refuse (409) or hold (wait)')
    .option('--force', 'release despite breaking API findings (needs --reason)')
    .option('-r, --reason <why>', 'why it is forced, recorded in the log')
    .option('--json', 'print the answer as JSON')
    .option('-w, --watch', 'follow the release live until it ends; exit 1 unless it succeeds')
    .action(async (options: Record<string, unknown>) =>
      guarded(context, setExitCode, async () => {
        const plan = Object.fromEntries(
          Object.entries({
            canarySteps: options['steps'],
            stepSeconds: options['stepSeconds'],
            replicas: options['replicas'],
            maxSurge: options['maxSurge'],
          }).filter(([, v]) => v !== undefined),
        );
        const answer = await callApi<{ releaseId: string }>(
          orchestrator(context),
          'POST',
          '/releases',
          context.token,
          {
            service: options['service'],
            artifact: {
              ...(options['artifact'] as object),
              ...(options['flags'] ? { flags: options['flags'] } : {}),
              ...(options['provides'] || options['consumes']
                ? { api: { provides: options['provides'], consumes: options['consumes'] } }
                : {}),
            },
            ...(options['apiPolicy'] ? { apiPolicy: options['apiPolicy'] } : {}),
            ...(options['force'] ? { force: true, reason: options['reason'] } : {}),
            strategy: options['strategy'],
            ...(options['versionLabel'] ? { version: options['versionLabel'] } : {}),
            ...(Object.keys(plan).length > 0 ? { plan } : {}),
            ...(options['first'] ? { first: true } : {}),
          },
        );
        if (options['json']) context.output.out(`${JSON.stringify(answer)}\n`);
        else {
          context.output.out(`release ${answer.releaseId} started\n`);
          // The API gate's verdict, when the build declared API documents.
          const release = await getRelease(context, answer.releaseId);
          if (release.apiGate) context.output.out(`${formatGate(release.apiGate)}\n`);
        }
        if (options['watch']) await watchRelease(context, setExitCode, answer.releaseId);
      }),
    );
}

/** pause | resume | promote | abort: one POST each. */
export function releaseActionCommands(context: CliContext, setExitCode: ExitCode): Command[] {
  const action = (
    name: string,
    description: string,
    body: (options: Record<string, unknown>) => object,
  ) =>
    new Command(name)
      .description(description)
      .argument('<release>', 'release id')
      .action(async (releaseId: string, options: Record<string, unknown>) =>
        guarded(context, setExitCode, async () => {
          await callApi(
            orchestrator(context),
            'POST',
            `/releases/${encodeURIComponent(releaseId)}/${name}`,
            context.token,
            body(options),
          );
          context.output.out(`${name}: ok\n`);
        }),
      );
  return [
    action('pause', 'Stop a release from advancing', (o) => ({
      reason: o['reason'],
    })).requiredOption('-r, --reason <why>', 'why, recorded in the log'),
    action('resume', 'Resume a paused release', () => ({})),
    action('promote', 'Pass the current step now', (o) => ({ full: Boolean(o['full']) })).option(
      '--full',
      'skip the remaining canary steps',
    ),
    action('abort', 'Abort a release and roll back', (o) => ({
      reason: o['reason'],
      ...(o['force'] ? { force: true } : {}),
    }))
      .requiredOption('-r, --reason <why>', 'why, recorded in the log')
      .option('--force', 'roll back even if the stable build breaks a live API consumer'),
  ];
}

interface ReleaseOptions {
  service?: string;
  json?: boolean;
  watch?: boolean;
}

/** `rollgate release [ID]`: one release with its steps, or the list (optionally per service). */
export function releaseCommand(context: CliContext, setExitCode: ExitCode): Command {
  return new Command('release')
    .description('Show a release with its progress, or list releases')
    .argument('[release]', 'release id')
    .option('-s, --service <name>', 'list only this service')
    .option('--json', 'print JSON')
    .option('-w, --watch', 'follow the release live until it ends; exit 1 unless it succeeds')
    .action(async (releaseId: string | undefined, options: ReleaseOptions) =>
      guarded(context, setExitCode, async () => {
        if (releaseId && options.watch) return watchRelease(context, setExitCode, releaseId);
        if (releaseId) {
          const release = await getRelease(context, releaseId);
          if (options.json) return context.output.out(`${JSON.stringify(release, null, 2)}\n`);
          const analysis = await lastInterval(context, releaseId);
          context.output.out(
            `${formatRelease(release)}${analysis ? formatLastInterval(analysis) : ''}`,
          );
          return;
        }
        const query = options.service ? `?service=${encodeURIComponent(options.service)}` : '';
        const releases = await callApi<ReleaseView[]>(
          orchestrator(context),
          'GET',
          `/releases${query}`,
          undefined,
        );
        context.output.out(
          options.json ? `${JSON.stringify(releases, null, 2)}\n` : formatReleaseList(releases),
        );
      }),
    );
}
