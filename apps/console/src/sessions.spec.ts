import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@rollgate/platform';
import { parseConsoleConfig } from './console-config';
import { cookieValue, loadSessionKey, SessionSealer, sessionCookie } from './sessions';

const grant = { subject: 'alice', actor: 'user:alice', scopes: ['deploy'] };

describe('console sessions', () => {
  const key = Buffer.alloc(32, 7);

  it('seals the token so the cookie does not show it, and opens it again', () => {
    const sealer = new SessionSealer(key, 60_000, () => 1_000);
    const sealed = sealer.seal('rg_secret-token', grant);
    expect(sealed).not.toContain('secret');
    expect(Buffer.from(sealed.replace(/\./g, ''), 'base64url').toString('latin1')).not.toContain(
      'secret',
    );
    expect(sealer.open(sealed)).toEqual({ token: 'rg_secret-token', grant, expiresAt: 61_000 });
  });

  it('refuses a tampered, foreign, expired or malformed cookie', () => {
    let now = 0;
    const sealer = new SessionSealer(key, 1_000, () => now);
    const sealed = sealer.seal('rg_token', grant);
    const [iv, tag, body] = sealed.split('.') as [string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(sealer.open(`${iv}.${tag}.${flipped.toString('base64url')}`)).toBeUndefined();
    expect(new SessionSealer(Buffer.alloc(32, 8), 1_000).open(sealed)).toBeUndefined();
    expect(sealer.open('not-a-session')).toBeUndefined();
    expect(sealer.open(undefined)).toBeUndefined();
    now = 1_000;
    expect(sealer.open(sealed)).toBeUndefined();
  });

  it('keeps one owner-only key across restarts', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'console-key-')), 'data', 'console-session.key');
    const first = loadSessionKey(file);
    expect(first).toHaveLength(32);
    expect(loadSessionKey(file).equals(first)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('sets an http-only, same-site cookie, Secure over https', () => {
    expect(sessionCookie('v', false, 60)).toBe(
      'rollgate_console=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=60',
    );
    expect(sessionCookie('v', true, 60)).toMatch(/; Secure$/);
    expect(cookieValue('a=1; rollgate_console=x.y=; b=2', 'rollgate_console')).toBe('x.y=');
    expect(cookieValue(undefined, 'rollgate_console')).toBeUndefined();
  });
});

describe('console configuration', () => {
  const platform = parseConfig({});

  it('listens on 7006 unless ROLLGATE_CONSOLE_PORT says otherwise, and calls the services where the CLI does', () => {
    expect(parseConsoleConfig({}, platform)).toMatchObject({
      port: 7006,
      serviceUrls: { orchestrator: 'http://127.0.0.1:7001' },
    });
    expect(parseConsoleConfig({ ROLLGATE_CONSOLE_PORT: '8080' }, platform).port).toBe(8080);
  });

  it('names an invalid port', () => {
    expect(() => parseConsoleConfig({ ROLLGATE_CONSOLE_PORT: 'x' }, platform)).toThrow(
      "ROLLGATE_CONSOLE_PORT: must be a port number 1-65535, got 'x'",
    );
  });
});
