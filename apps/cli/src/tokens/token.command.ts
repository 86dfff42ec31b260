import { Command, InvalidArgumentError } from 'commander';
import {
  isScope,
  issueToken,
  readTokenEntries,
  revokeToken,
  SCOPES,
  tokenId,
  type Scope,
  type TokenGrant,
} from '@rollgate/platform';
import { SERVICE_NAME_PATTERN } from '@rollgate/contracts';
import type { CliContext } from '../context';
import { table } from '../output/table';

const list = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const parseScopes = (value: string): Scope[] => {
  const scopes = list(value);
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (scopes.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`expected scopes from ${SCOPES.join(', ')}`);
  }
  return scopes as Scope[];
};

const parseServices = (value: string): string[] => {
  const services = list(value);
  const bad = services.filter((service) => !new RegExp(SERVICE_NAME_PATTERN).test(service));
  if (services.length === 0 || bad.length > 0) {
    throw new InvalidArgumentError(`expected service names such as checkout,orders`);
  }
  return services;
};

/**
 * `rollgate token issue|list|revoke`: the tokens file (ROLLGATE_TOKENS_FILE) of this machine. Only
 * hashes are stored; `issue` prints the token once. Services re-read the file on change, so a
 * rotation (issue, hand over, revoke) needs no restart.
 */
export function tokenCommand(context: CliContext, setExitCode: (code: number) => void): Command {
  const file = () => context.config.tokensFile;
  const fail = (error: unknown) => {
    context.output.err(`error: ${(error as Error).message}\n`);
    setExitCode(1);
  };
  const token = new Command('token').description(
    'Issue, list and revoke API tokens in the tokens file (ROLLGATE_TOKENS_FILE)',
  );
  token
    .command('issue')
    .description('Add a token and print it once (only its SHA-256 is stored)')
    .requiredOption('--subject <name>', 'who holds it: recorded as the actor of its changes')
    .requiredOption('--scopes <list>', `comma-separated: ${SCOPES.join(', ')}`, parseScopes)
    .option(
      '--services <list>',
      'limit it to these services (default: every service)',
      parseServices,
    )
    .option('--json', 'print {token, id} as JSON')
    .action(
      (options: { subject: string; scopes: Scope[]; services?: string[]; json?: boolean }) => {
        try {
          const grant: TokenGrant = { subject: options.subject, scopes: options.scopes };
          if (options.services) grant.services = options.services;
          const issued = issueToken(file(), grant);
          const id = tokenId(readTokenEntries(file()).at(-1)!);
          context.output.out(
            options.json
              ? `${JSON.stringify({ token: issued, id })}\n`
              : `${issued}\n(id ${id}; shown once, keep it in your secret store)\n`,
          );
        } catch (error) {
          fail(error);
        }
      },
    );
  token
    .command('list')
    .description('The tokens in the file: id, subject, scopes, services (never the token)')
    .action(() => {
      try {
        const rows = readTokenEntries(file()).map((entry) => [
          tokenId(entry),
          entry.subject,
          entry.scopes.join(','),
          entry.services?.join(',') ?? '*',
        ]);
        context.output.out(table(['ID', 'SUBJECT', 'SCOPES', 'SERVICES'], rows));
      } catch (error) {
        fail(error);
      }
    });
  token
    .command('revoke <id>')
    .description('Remove a token by its id (8+ leading characters); refused at its next request')
    .action((id: string) => {
      try {
        const revoked = revokeToken(file(), id);
        context.output.out(`revoked ${tokenId(revoked)} (${revoked.subject})\n`);
      } catch (error) {
        fail(error);
      }
    });
  return token;
}
