import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Rollgate signs every webhook delivery: `rollgate-signature: t=<unix seconds>,v1=<hex>` where
 * the hex is HMAC-SHA256(secret, `<t>.<raw body>`). Receivers verify it with the secret they
 * gave, and refuse a timestamp outside the replay window (a captured request cannot be replayed
 * later). Retries are signed again with a fresh timestamp.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'rollgate-signature';
/** How far (either way) a signature's timestamp may be from the receiver's clock. */
export const WEBHOOK_REPLAY_WINDOW_SECONDS = 300;

export function webhookSignature(secret: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export type WebhookVerification =
  | { valid: true; timestamp: number }
  | { valid: false; reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

/**
 * Checks a `rollgate-signature` header against the raw request body (the bytes as received,
 * before any JSON parsing). Constant-time comparison; any `v1` entry may match (secret rotation).
 */
export function verifyWebhookSignature(options: {
  secret: string;
  header: string | undefined | null;
  body: string | Buffer;
  /** Receiver's clock, unix seconds. Default: now. */
  now?: number;
  toleranceSeconds?: number;
}): WebhookVerification {
  if (!options.header) return { valid: false, reason: 'missing' };
  const parts = options.header.split(',').map((part) => part.trim().split('='));
  const timestamps = parts.filter(([name]) => name === 't').map(([, value]) => value ?? '');
  const signatures = parts.filter(([name]) => name === 'v1').map(([, value]) => value ?? '');
  if (timestamps.length !== 1 || !/^\d{1,12}$/.test(timestamps[0]!) || signatures.length === 0)
    return { valid: false, reason: 'malformed' };
  const timestamp = Number(timestamps[0]);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? WEBHOOK_REPLAY_WINDOW_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return { valid: false, reason: 'expired' };
  const expected = Buffer.from(
    webhookSignature(options.secret, timestamp, options.body).split('v1=')[1]!,
    'hex',
  );
  const matches = signatures.some((signature) => {
    if (!/^[a-f0-9]{64}$/.test(signature)) return false;
    return timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  });
  return matches ? { valid: true, timestamp } : { valid: false, reason: 'mismatch' };
}
