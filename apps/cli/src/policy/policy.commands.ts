import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { CliContext } from '../context';
import { ApiError, callApi, describeApiError, guarded } from '../releases/api-client';

type ExitCode = (code: number) => void;

interface PolicyChange {
  path: string;
  change: 'added' | 'removed' | 'changed';
  before?: unknown;
  after?: unknown;
}

interface AppliedView {
  service: string;
  version: number;
  changed: boolean;
  changes: PolicyChange[];
  canaryConfig?: { name: string; version: number; changed: boolean };
}

interface NotificationTarget {
  url: string;
  types: string[];
  format?: string;
  secretFile?: string;
}

interface SubscriptionView {
  id: string;
  url: string;
  types: string[];
  service: string | null;
  format: string;
}

/** A policy file: its text, and what the CLI itself reads from it (service, notifications). */
interface PolicyFile {
  text: string;
  service?: string;
  notifications: NotificationTarget[];
}

/** Exit code of `rollgate diff` when the file would change the policy (like `git diff --exit-code`). */
export const DIFF_CHANGES_EXIT_CODE = 1;
/** Exit code when nothing could be compared: unreadable file, refused document, API down. */
export const DIFF_ERROR_EXIT_CODE = 2;

const value = (v: unknown) => JSON.stringify(v);

/** One line per change: `+ path: new`, `- path: old`, `~ path: old → new`. */
export function formatChanges(changes: readonly PolicyChange[]): string {
  return changes
    .map((c) =>
      c.change === 'added'
        ? `+ ${c.path}: ${value(c.after)}`
        : c.change === 'removed'
          ? `- ${c.path}: ${value(c.before)}`
          : `~ ${c.path}: ${value(c.before)} → ${value(c.after)}`,
    )
    .map((line) => `  ${line}\n`)
    .join('');
}

/** The decoded file, for the fields the CLI reads; null if it does not parse. */
function decode(text: string): { service?: unknown; notifications?: unknown } | null {
  try {
    return parseYaml(text, { maxAliasCount: 0 }) as { service?: unknown; notifications?: unknown };
  } catch {
    return null; // the orchestrator names the problem when the file is sent
  }
}

async function readPolicyFile(file: string): Promise<PolicyFile> {
  const text = await readFile(file, 'utf8');
  const decoded = decode(text);
  return {
    text,
    ...(typeof decoded?.service === 'string' && { service: decoded.service }),
    notifications: Array.isArray(decoded?.notifications)
      ? (decoded.notifications as NotificationTarget[])
      : [],
  };
}

const sameTarget = (service: string, target: NotificationTarget, s: SubscriptionView) =>
  s.url === target.url &&
  s.service === service &&
  s.format === (target.format ?? 'binary') &&
  [...s.types].sort().join(',') === [...target.types].sort().join(',');

/**
 * `rollgate apply -f rollgate.yaml` and `rollgate diff -f rollgate.yaml`: a service's release
 * policy as code.
 */
export function policyCommands(context: CliContext, setExitCode: ExitCode): Command[] {
  const orchestrator = <T>(method: 'GET' | 'POST', route: string, body?: unknown) =>
    callApi<T>(context.config.serviceUrls.orchestrator, method, route, context.token, body);
  const route = (service: string, rest = '') =>
    `/services/${encodeURIComponent(service)}/policy${rest}`;

  /** The file and its service, or undefined after saying why not (exit code `code`). */
  async function load(
    options: { file: string; service?: string },
    code: number,
  ): Promise<(PolicyFile & { service: string }) | undefined> {
    let file: PolicyFile;
    try {
      file = await readPolicyFile(options.file);
    } catch (error) {
      context.output.err(`error: cannot read ${options.file}: ${(error as Error).message}\n`);
      setExitCode(code);
      return undefined;
    }
    const service = options.service ?? file.service;
    if (!service) {
      context.output.err(`error: give --service, or set service in ${basename(options.file)}\n`);
      setExitCode(code);
      return undefined;
    }
    return { ...file, service };
  }

  /**
   * Notification targets become webhook subscriptions of the service: one is created for each
   * target that has a secretFile and no subscription with the same URL, types and format yet.
   * Subscriptions need the `admin` scope; removed targets are not deleted (say so, once).
   */
  async function subscribe(file: PolicyFile & { service: string }, policyFile: string) {
    if (file.notifications.length === 0) return;
    let existing: SubscriptionView[];
    try {
      existing = await orchestrator<SubscriptionView[]>('GET', '/subscriptions');
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      context.output.err(
        `notifications not subscribed (${describeApiError(error)}); subscriptions need the admin scope\n`,
      );
      return setExitCode(1);
    }
    for (const [i, target] of file.notifications.entries()) {
      if (existing.some((s) => sameTarget(file.service, target, s))) continue;
      if (!target.secretFile) {
        context.output.err(
          `notifications[${i}]: no secretFile, no subscription created; run rollgate subscriptions create --url ${target.url} --service ${file.service}\n`,
        );
        continue;
      }
      const secretPath = resolve(dirname(policyFile), target.secretFile);
      let secret: string;
      try {
        secret = (await readFile(secretPath, 'utf8')).trim();
      } catch (error) {
        context.output.err(
          `notifications[${i}]: cannot read secretFile ${secretPath}: ${(error as Error).message}\n`,
        );
        setExitCode(1);
        continue;
      }
      await guarded(context, setExitCode, async () => {
        const created = await orchestrator<{ subscriptionId: string }>('POST', '/subscriptions', {
          url: target.url,
          types: target.types,
          service: file.service,
          secret,
          ...(target.format && { format: target.format }),
        });
        context.output.out(
          `notifications[${i}]: subscription ${created.subscriptionId} created for ${target.url}\n`,
        );
      });
    }
  }

  const apply = new Command('apply')
    .description(
      "Apply a service's release policy (rollgate.yaml or JSON); a new version only if something changed",
    )
    .requiredOption('-f, --file <file>', 'the policy (.yaml, .yml or .json)')
    .option('--service <name>', 'the service (default: `service` in the file)')
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { file: string; service?: string; json?: boolean }) => {
      const file = await load(options, 2);
      if (!file) return;
      let applied: AppliedView | undefined;
      await guarded(context, setExitCode, async () => {
        applied = await orchestrator<AppliedView>('POST', route(file.service), {
          policy: file.text,
        });
      });
      if (!applied) return;
      if (options.json) context.output.out(`${JSON.stringify(applied, null, 2)}\n`);
      else {
        context.output.out(
          applied.changed
            ? `policy ${applied.service}: version ${applied.version} applied; releases requested from now on use it\n${formatChanges(applied.changes)}`
            : `policy ${applied.service}: unchanged (version ${applied.version})\n`,
        );
        const config = applied.canaryConfig;
        if (config)
          context.output.out(
            `canary config ${config.name}: ${config.changed ? `version ${config.version} applied` : `unchanged (version ${config.version})`}\n`,
          );
      }
      await subscribe(file, options.file);
    });

  const diff = new Command('diff')
    .description(
      `Show what applying a policy file would change; exit ${DIFF_CHANGES_EXIT_CODE} when something would, 0 when nothing, ${DIFF_ERROR_EXIT_CODE} on errors`,
    )
    .requiredOption('-f, --file <file>', 'the policy (.yaml, .yml or .json)')
    .option('--service <name>', 'the service (default: `service` in the file)')
    .option('--json', 'print the API answer as JSON')
    .action(async (options: { file: string; service?: string; json?: boolean }) => {
      const file = await load(options, DIFF_ERROR_EXIT_CODE);
      if (!file) return;
      let answer: AppliedView;
      try {
        answer = await orchestrator<AppliedView>('POST', route(file.service, '/diff'), {
          policy: file.text,
        });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        context.output.err(`${describeApiError(error)}\n`);
        return setExitCode(DIFF_ERROR_EXIT_CODE);
      }
      const configChanges = answer.canaryConfig?.changed ?? false;
      if (options.json) context.output.out(`${JSON.stringify(answer, null, 2)}\n`);
      else if (!answer.changed && !configChanges)
        context.output.out(`policy ${answer.service}: no changes (version ${answer.version})\n`);
      else {
        if (answer.changed)
          context.output.out(
            `policy ${answer.service}: version ${answer.version} would be applied\n${formatChanges(answer.changes)}`,
          );
        if (configChanges)
          context.output.out(
            `canary config ${answer.canaryConfig!.name}: version ${answer.canaryConfig!.version} would be applied\n`,
          );
      }
      if (answer.changed || configChanges) setExitCode(DIFF_CHANGES_EXIT_CODE);
    });

  return [apply, diff];
}
