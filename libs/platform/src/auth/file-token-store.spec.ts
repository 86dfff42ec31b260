import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTokenStore, issueToken } from './file-token-store';
import { ensureLocalAdminToken, localAdminTokenPath } from './local-admin-token';
import { AuthPrincipal } from './principal';
import { sha256Hex } from './token-store';

const tempTokensFile = () => join(mkdtempSync(join(tmpdir(), 'rollgate-tokens-')), 'tokens.json');

describe('FileTokenStore', () => {
  it('resolves an issued token to its grant and stores only its SHA-256', async () => {
    const file = tempTokensFile();
    const token = issueToken(file, {
      subject: 'alice',
      scopes: ['deploy'],
      services: ['checkout'],
    });
    const store = new FileTokenStore(file);

    expect(await store.findByToken(token)).toEqual({
      subject: 'alice',
      scopes: ['deploy'],
      services: ['checkout'],
    });
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(token);
    expect(stored).toContain(sha256Hex(token));
  });

  it('returns undefined for a token it does not know', async () => {
    const file = tempTokensFile();
    issueToken(file, { subject: 'alice', scopes: ['read'] });
    expect(await new FileTokenStore(file).findByToken('rg_not-a-real-token')).toBeUndefined();
  });

  it('picks up revocations from the file without a restart', async () => {
    const file = tempTokensFile();
    const token = issueToken(file, { subject: 'alice', scopes: ['read'] });
    const store = new FileTokenStore(file);
    expect(await store.findByToken(token)).toBeDefined();

    writeFileSync(file, '[]\n');
    expect(await store.findByToken(token)).toBeUndefined();
  });

  it('fails at construction when the file is missing', () => {
    const file = tempTokensFile();
    expect(() => new FileTokenStore(file)).toThrow(`tokens file ${file} cannot be read`);
  });

  it('names every invalid entry of a malformed file', () => {
    const file = tempTokensFile();
    writeFileSync(
      file,
      JSON.stringify([
        { subject: 'ok', scopes: ['read'], tokenSha256: 'a'.repeat(64) },
        { subject: '', scopes: ['root'], tokenSha256: 'plaintext' },
      ]),
    );
    const open = () => new FileTokenStore(file);
    expect(open).toThrow('entry 1: subject must be a non-empty string');
    expect(open).toThrow('entry 1: scopes must be an array');
    expect(open).toThrow('entry 1: tokenSha256 must be 64 hex characters');
    expect(open).not.toThrow(/entry 0/);
  });
});

describe('ensureLocalAdminToken', () => {
  it('creates a tokens file with one admin token and leaves the plaintext in admin.token (0600)', async () => {
    const file = tempTokensFile();
    const token = ensureLocalAdminToken(file);

    expect(token).toMatch(/^rg_[A-Za-z0-9_-]{43}$/);
    const grant = await new FileTokenStore(file).findByToken(token as string);
    expect(grant).toEqual({ subject: 'local-admin', scopes: ['admin'] });
    expect(new AuthPrincipal(grant!).hasScope('migrate')).toBe(true);

    const adminTokenFile = localAdminTokenPath(file);
    expect(readFileSync(adminTokenFile, 'utf8').trim()).toBe(token);
    expect(statSync(adminTokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('never replaces an existing tokens file and returns the token already issued', () => {
    const file = tempTokensFile();
    const first = ensureLocalAdminToken(file);
    const contents = readFileSync(file, 'utf8');

    expect(ensureLocalAdminToken(file)).toBe(first);
    expect(readFileSync(file, 'utf8')).toBe(contents);
  });
});
