import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context';
import { table } from '../output/table';
import { callApi, guarded } from '../releases/api-client';

type ExitCode = (code: number) => void;

interface SubscriptionView {
  id: string;
  url: string;
  types: string[];
  service: string | null;
  format: string;
  secretFingerprint: string;
  timeoutMs: number;
  maxAttempts: number;
  createdAt: string;
  createdBy: string;
  deliveries?: Record<string, number>;
}

interface AttemptView {
  deliveryId: number;
  eventId: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  outcome: string;
  error: string | null;
}

interface DeliveryView {
  id: number;
  eventId: string;
  eventType: string;
  key: string;
  attempts: number;
  finishedAt: string | null;
  lastError: string | null;
}

/** Env variable read for the secret when no --secret-file is given (never a plain argument: ps shows those). */
export const SECRET_ENV = 'ROLLGATE_WEBHOOK_SECRET';

const orchestrator = (context: CliContext) => context.config.serviceUrls.orchestrator;
const path = (id: string, rest = '') => `/subscriptions/${encodeURIComponent(id)}${rest}`;

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
      throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}`);
    return Number(value);
  };
}

/** The secret, or undefined after saying why there is none. */
function readSecret(file: string | undefined, fail: (message: string) => void): string | undefined {
  if (file === undefined) {
    const secret = process.env[SECRET_ENV];
    if (!secret) fail(`give --secret-file FILE or set ${SECRET_ENV}`);
    return secret || undefined;
  }
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
    return undefined;
  }
}

function describe(s: SubscriptionView): string {
  const lines = [
    `id           ${s.id}`,
    `url          ${s.url}`,
    `types        ${s.types.join(', ')}`,
    `service      ${s.service ?? '(every service)'}`,
    `format       ${s.format}`,
    `secret       ${s.secretFingerprint} (fingerprint)`,
    `timeout      ${s.timeoutMs} ms, dead letter after ${s.maxAttempts} attempts`,
    `created      ${s.createdAt} by ${s.createdBy}`,
  ];
  if (s.deliveries) {
    const d = s.deliveries;
    lines.push(
      `deliveries   ${d['pending'] ?? 0} pending, ${d['delivered'] ?? 0} delivered, ${d['dead'] ?? 0} dead, ${d['cancelled'] ?? 0} cancelled`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `rollgate subscriptions create|list|show|deliveries|dead-letters|redeliver|replay|delete`. */
export function subscriptionsCommand(context: CliContext, setExitCode: ExitCode): Command {
  const command = new Command('subscriptions').description(
    'Webhooks: signed CloudEvents (or Slack messages) POSTed to tools outside Kafka',
  );
  const json = (value: unknown) => context.output.out(`${JSON.stringify(value, null, 2)}\n`);
  const fail = (message: string) => {
    context.output.err(`error: ${message}\n`);
    setExitCode(2);
  };

  command
    .command('create')
    .description('Subscribe a URL to events')
    .requiredOption('--url <url>', 'http(s) URL the deliveries are POSTed to')
    .requiredOption(
      '--types <globs>',
      'comma-separated event-type globs, e.g. "Release*,FleetDriftDetected"',
    )
    .option('-s, --service <name>', 'only events of this service')
    .option('--secret-file <file>', `file holding the signing secret (default: $${SECRET_ENV})`)
    .addOption(
      new Option('--format <format>', 'wire format')
        .choices(['binary', 'structured', 'slack'])
        .default('binary'),
    )
    .option('--timeout-ms <ms>', 'per attempt, 100-30000', positiveInt('--timeout-ms', 30_000))
    .option(
      '--max-attempts <n>',
      'before the dead letters, 1-100',
      positiveInt('--max-attempts', 100),
    )
    .option('--json', 'print the API answer as JSON')
    .action(
      async (options: {
        url: string;
        types: string;
        service?: string;
        secretFile?: string;
        format: string;
        timeoutMs?: number;
        maxAttempts?: number;
        json?: boolean;
      }) => {
        const secret = readSecret(options.secretFile, fail);
        if (secret === undefined) return;
        await guarded(context, setExitCode, async () => {
          const answer = await callApi<{ subscriptionId: string }>(
            orchestrator(context),
            'POST',
            '/subscriptions',
            context.token,
            {
              url: options.url,
              types: options.types
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
              secret,
              format: options.format,
              ...(options.service ? { service: options.service } : {}),
              ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
              ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
            },
          );
          if (options.json) json(answer);
          else context.output.out(`subscription ${answer.subscriptionId} created\n`);
        });
      },
    );

  command
    .command('list')
    .description('Every subscription')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const list = await callApi<SubscriptionView[]>(
          orchestrator(context),
          'GET',
          '/subscriptions',
          context.token,
        );
        if (options.json) return json(list);
        context.output.out(
          table(
            ['ID', 'FORMAT', 'SERVICE', 'TYPES', 'URL'],
            list.map((s) => [s.id, s.format, s.service ?? '*', s.types.join(','), s.url]),
          ),
        );
      });
    });

  command
    .command('show <id>')
    .description('A subscription and its delivery counts')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const view = await callApi<SubscriptionView>(
          orchestrator(context),
          'GET',
          path(id),
          context.token,
        );
        if (options.json) json(view);
        else context.output.out(describe(view));
      });
    });

  command
    .command('deliveries <id>')
    .description('Every delivery attempt, newest first')
    .option('--limit <n>', '1-1000', positiveInt('--limit', 1000), 50)
    .option('--json', 'print JSON')
    .action(async (id: string, options: { limit: number; json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const attempts = await callApi<AttemptView[]>(
          orchestrator(context),
          'GET',
          path(id, `/deliveries?limit=${options.limit}`),
          context.token,
        );
        if (options.json) return json(attempts);
        context.output.out(
          table(
            ['DELIVERY', 'ATTEMPT', 'AT', 'MS', 'OUTCOME', 'STATUS', 'EVENT', 'ERROR'],
            attempts.map((a) => [
              String(a.deliveryId),
              String(a.attempt),
              a.startedAt,
              String(a.durationMs),
              a.outcome,
              a.statusCode === null ? '-' : String(a.statusCode),
              a.eventId,
              a.error ?? '',
            ]),
          ),
        );
      });
    });

  command
    .command('dead-letters <id>')
    .description('Deliveries that ran out of attempts')
    .option('--limit <n>', '1-1000', positiveInt('--limit', 1000), 100)
    .option('--json', 'print JSON')
    .action(async (id: string, options: { limit: number; json?: boolean }) => {
      await guarded(context, setExitCode, async () => {
        const dead = await callApi<DeliveryView[]>(
          orchestrator(context),
          'GET',
          path(id, `/dead-letters?limit=${options.limit}`),
          context.token,
        );
        if (options.json) return json(dead);
        context.output.out(
          table(
            ['DELIVERY', 'EVENT', 'TYPE', 'KEY', 'ATTEMPTS', 'LAST ERROR'],
            dead.map((d) => [
              String(d.id),
              d.eventId,
              d.eventType,
              d.key,
              String(d.attempts),
              d.lastError ?? '',
            ]),
          ),
        );
      });
    });

  command
    .command('redeliver <id> [deliveryIds...]')
    .description('Send dead letters again: the listed ones, or all of them')
    .action(async (id: string, deliveryIds: string[]) => {
      const ids = deliveryIds.map(positiveInt('delivery id', 2 ** 31 - 1));
      await guarded(context, setExitCode, async () => {
        const answer = await callApi<{ redelivered: number }>(
          orchestrator(context),
          'POST',
          path(id, '/redeliver'),
          context.token,
          ids.length > 0 ? { deliveryIds: ids } : {},
        );
        context.output.out(`${answer.redelivered} dead letter(s) queued again\n`);
      });
    });

  command
    .command('replay <id>')
    .description('Queue again every matching event of the log from an offset or a time')
    .option('--from-offset <offset>', 'offset of every partition', (value: string) => {
      if (!/^\d+$/.test(value))
        throw new InvalidArgumentError('--from-offset must be an offset (0, 1, ...)');
      return Number(value);
    })
    .option('--from-time <iso>', 'events that occurred at or after this instant')
    .option('--topic <topic>', 'only this topic')
    .action(
      async (id: string, options: { fromOffset?: number; fromTime?: string; topic?: string }) => {
        if ((options.fromOffset === undefined) === (options.fromTime === undefined))
          return fail('give exactly one of --from-offset and --from-time');
        await guarded(context, setExitCode, async () => {
          const answer = await callApi<{ enqueued: number }>(
            orchestrator(context),
            'POST',
            path(id, '/replay'),
            context.token,
            {
              ...(options.fromOffset !== undefined ? { fromOffset: options.fromOffset } : {}),
              ...(options.fromTime !== undefined ? { fromTime: options.fromTime } : {}),
              ...(options.topic ? { topic: options.topic } : {}),
            },
          );
          context.output.out(`${answer.enqueued} event(s) queued for subscription ${id}\n`);
        });
      },
    );

  command
    .command('delete <id>')
    .description('Delete a subscription; its pending deliveries are cancelled')
    .action(async (id: string) => {
      await guarded(context, setExitCode, async () => {
        await callApi(orchestrator(context), 'DELETE', path(id), context.token);
        context.output.out(`subscription ${id} deleted\n`);
      });
    });

  return command;
}
