import Database from 'better-sqlite3';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDirectory, ensurePrivateFile } from './private-files';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('private data files', () => {
  it('creates the directory 0700 and tightens one created wider, with the files in it', () => {
    const parent = mkdtempSync(join(tmpdir(), 'rollgate-private-'));
    const fresh = join(parent, 'data');
    ensurePrivateDirectory(fresh);
    expect(modeOf(fresh)).toBe(0o700);

    chmodSync(fresh, 0o755);
    writeFileSync(join(fresh, 'old.db'), 'x', { mode: 0o644 });
    ensurePrivateDirectory(fresh);
    expect([modeOf(fresh), modeOf(join(fresh, 'old.db'))]).toEqual([0o700, 0o600]);
  });

  it('keeps a SQLite database and its -wal and -shm files 0600', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollgate-private-'));
    const file = join(dir, 'service.db');
    ensurePrivateFile(file);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
    const files = readdirSync(dir).sort();
    expect(files).toEqual(['service.db', 'service.db-shm', 'service.db-wal']);
    expect(files.map((name) => modeOf(join(dir, name)))).toEqual([0o600, 0o600, 0o600]);
    db.close();
  });
});
