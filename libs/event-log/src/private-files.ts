import { chmodSync, closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates `dir` private (0700), or tightens it, and makes the files already in it 0600: a data
 * directory holds the event log, the read models and tokens, readable by nobody else.
 */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile()) chmodSync(join(dir, entry.name), 0o600);
  }
}

/**
 * Creates `file` empty and 0600 when it is missing (and tightens it otherwise) before SQLite opens
 * it: SQLite gives its -wal and -shm files the mode of the database file, so all three stay private.
 */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}
