import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TokenFileEntry } from './file-token-store';
import { generateToken, sha256Hex } from './token-store';

export const LOCAL_ADMIN_SUBJECT = 'local-admin';

/** Where ensureLocalAdminToken leaves the plaintext token for the local user: next to the tokens file. */
export const localAdminTokenPath = (tokensFile: string): string =>
  join(dirname(tokensFile), 'admin.token');

/**
 * For the embedded mode: creates `tokensFile` with one random admin token when it does not exist.
 * Returns the plaintext token (from admin.token when the file already existed), or undefined
 * when the tokens file exists but the plaintext is no longer on disk.
 */
export function ensureLocalAdminToken(tokensFile: string): string | undefined {
  mkdirSync(dirname(tokensFile), { recursive: true, mode: 0o700 });
  const token = generateToken();
  const entry: TokenFileEntry = {
    subject: LOCAL_ADMIN_SUBJECT,
    scopes: ['admin'],
    tokenSha256: sha256Hex(token),
  };
  try {
    // 'wx' fails when the file exists: never overwrite tokens someone already issued.
    writeFileSync(tokensFile, `${JSON.stringify([entry], null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readExistingAdminToken(tokensFile);
  }
  const tokenPath = localAdminTokenPath(tokensFile);
  writeFileSync(tokenPath, `${token}\n`, { mode: 0o600 });
  chmodSync(tokenPath, 0o600); // mode only applies on creation; a stale file may be wider
  return token;
}

function readExistingAdminToken(tokensFile: string): string | undefined {
  try {
    return readFileSync(localAdminTokenPath(tokensFile), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
