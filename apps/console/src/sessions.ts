import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Grant } from './view/view-model';

export const SESSION_COOKIE = 'rollgate_console';

export interface Session {
  token: string;
  grant: Grant & { actor: string };
  /** Epoch ms. */
  expiresAt: number;
}

/**
 * Sign-ins sealed into an http-only cookie: the Rollgate token is encrypted (AES-256-GCM) with a
 * key only the console server holds, so the page's scripts never see it, it is never in local
 * storage or a URL, and a restarted console (or host) still knows its signed-in browsers.
 */
export class SessionSealer {
  constructor(
    private readonly key: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length !== 32) throw new Error('the session key must be 32 bytes');
  }

  seal(token: string, grant: Session['grant']): string {
    const session: Session = { token, grant, expiresAt: this.now() + this.ttlMs };
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
  }

  /** The session in a cookie value; undefined when absent, forged, tampered with or expired. */
  open(value: string | undefined): Session | undefined {
    const parts = (value ?? '').split('.');
    if (parts.length !== 3) return undefined;
    try {
      const [iv, tag, body] = parts.map((p) => Buffer.from(p, 'base64url')) as [
        Buffer,
        Buffer,
        Buffer,
      ];
      const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      const text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      const session = JSON.parse(text) as Session;
      return session.expiresAt > this.now() ? session : undefined;
    } catch {
      return undefined;
    }
  }
}

/** The console's session key, created (owner-only) on first use. */
export function loadSessionKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length === 32) return key;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  writeFileSync(file, key.toString('base64'), { mode: 0o600 });
  chmodSync(file, 0o600);
  return key;
}

/** The value of one cookie in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

export function sessionCookie(value: string, secure: boolean, maxAgeSeconds: number): string {
  return [
    `${SESSION_COOKIE}=${value}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
