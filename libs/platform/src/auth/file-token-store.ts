import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { isScope, SCOPES, type TokenGrant } from './principal';
import { generateToken, sha256Hex, type TokenStore } from './token-store';

/** One entry of the tokens file. Only the SHA-256 of a token is ever stored. */
export interface TokenFileEntry extends TokenGrant {
  tokenSha256: string;
}

interface LoadedEntry {
  grant: TokenGrant;
  hash: Buffer;
}

/**
 * Tokens from a JSON file holding an array of TokenFileEntry.
 * The file is re-read when it changes, so removing an entry revokes the token without a restart.
 */
export class FileTokenStore implements TokenStore {
  private entries: LoadedEntry[] = [];
  private loadedVersion = '';

  /** Loads eagerly so a missing or malformed file stops the process at startup. */
  constructor(readonly file: string) {
    this.reloadIfChanged();
  }

  async findByToken(token: string): Promise<TokenGrant | undefined> {
    this.reloadIfChanged();
    const presented = Buffer.from(sha256Hex(token), 'hex');
    let match: TokenGrant | undefined;
    // Compare against every entry in constant time; no early exit that would time the position.
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.hash, presented)) match = entry.grant;
    }
    return match;
  }

  private reloadIfChanged(): void {
    let version: string;
    try {
      const stat = statSync(this.file);
      version = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch (error) {
      const hint =
        (error as NodeJS.ErrnoException).code === 'ENOENT'
          ? ' (set ROLLGATE_TOKENS_FILE, or start the embedded mode once to create a local admin token)'
          : '';
      throw new Error(
        `tokens file ${this.file} cannot be read: ${(error as Error).message}${hint}`,
      );
    }
    if (version === this.loadedVersion) return;
    this.entries = parseTokensFile(this.file, readFileSync(this.file, 'utf8'));
    this.loadedVersion = version;
  }
}

/**
 * Adds a new random token for `grant` to the tokens file (created when missing) and returns the
 * plaintext, which is not stored anywhere. The file is replaced atomically so a running
 * FileTokenStore never reads half of it.
 */
export function issueToken(file: string, grant: TokenGrant): string {
  const token = generateToken();
  writeTokensFile(file, [...readTokenEntries(file), { ...grant, tokenSha256: sha256Hex(token) }]);
  return token;
}

/** How a token is named without its secret: the start of its hash (as `rollgate token list` shows). */
export const TOKEN_ID_LENGTH = 12;
export const tokenId = (entry: TokenFileEntry): string =>
  entry.tokenSha256.slice(0, TOKEN_ID_LENGTH).toLowerCase();

/** The entries of the tokens file (none when it does not exist yet). */
export function readTokenEntries(file: string): TokenFileEntry[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  parseTokensFile(file, text); // refuse to work on a file the store could not read
  return JSON.parse(text) as TokenFileEntry[];
}

/**
 * Removes the token whose id starts with `idPrefix` (at least 8 characters, matching exactly one
 * entry) and returns it. Running stores see the change at their next request: no restart.
 */
export function revokeToken(file: string, idPrefix: string): TokenFileEntry {
  const prefix = idPrefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(prefix)) {
    throw new Error(`token id must be 8 to 64 hex characters, got "${idPrefix}"`);
  }
  const entries = readTokenEntries(file);
  const matches = entries.filter((entry) => entry.tokenSha256.toLowerCase().startsWith(prefix));
  if (matches.length !== 1) {
    throw new Error(
      matches.length === 0
        ? `no token with id ${prefix} in ${file}`
        : `${matches.length} tokens start with ${prefix}: give more characters`,
    );
  }
  writeTokensFile(
    file,
    entries.filter((entry) => entry !== matches[0]),
  );
  return matches[0]!;
}

/** Replaced atomically and private (0600), so a running FileTokenStore never reads half of it. */
function writeTokensFile(file: string, entries: readonly TokenFileEntry[]): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

function parseTokensFile(file: string, text: string): LoadedEntry[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`tokens file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(data)) {
    throw new Error(`tokens file ${file} must hold a JSON array of token entries`);
  }
  const problems: string[] = [];
  const entries = data.flatMap((raw: unknown, index): LoadedEntry[] => {
    const entryProblems = validateEntry(raw);
    problems.push(...entryProblems.map((p) => `entry ${index}: ${p}`));
    if (entryProblems.length > 0) return [];
    const entry = raw as TokenFileEntry;
    const grant: TokenGrant = { subject: entry.subject, scopes: [...entry.scopes] };
    if (entry.services) grant.services = [...entry.services];
    return [{ grant, hash: Buffer.from(entry.tokenSha256.toLowerCase(), 'hex') }];
  });
  if (problems.length > 0) {
    throw new Error(`tokens file ${file} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return entries;
}

function validateEntry(raw: unknown): string[] {
  if (typeof raw !== 'object' || raw === null) return ['must be an object'];
  const entry = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof entry.subject !== 'string' || entry.subject.trim() === '') {
    problems.push('subject must be a non-empty string');
  }
  if (!Array.isArray(entry.scopes) || !entry.scopes.every(isScope)) {
    problems.push(`scopes must be an array of ${SCOPES.join(', ')}`);
  }
  if (
    entry.services !== undefined &&
    (!Array.isArray(entry.services) || !entry.services.every((s) => typeof s === 'string'))
  ) {
    problems.push('services must be an array of service names when present');
  }
  if (typeof entry.tokenSha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(entry.tokenSha256)) {
    problems.push('tokenSha256 must be 64 hex characters (the SHA-256 of the token)');
  }
  return problems;
}
