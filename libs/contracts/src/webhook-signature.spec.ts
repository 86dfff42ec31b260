import { createHmac } from 'node:crypto';
import { verifyWebhookSignature, webhookSignature } from './webhook-signature';

const secret = 'a-secret-of-enough-length';
const body = '{"id":"0193","type":"ReleaseRequested"}';

describe('webhook signature', () => {
  it('is HMAC-SHA256 of "<t>.<body>", hex, in t=...,v1=...', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    expect(webhookSignature(secret, 1_700_000_000, body)).toBe(`t=1700000000,v1=${expected}`);
  });

  it('verifies a fresh signature and refuses a changed body, another secret or an old timestamp', () => {
    const header = webhookSignature(secret, 1_700_000_000, body);
    const verify = (overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret, header, body, now: 1_700_000_100, ...overrides });
    expect(verify({})).toEqual({ valid: true, timestamp: 1_700_000_000 });
    expect(verify({ body: body.replace('Requested', 'Succeeded') })).toEqual({
      valid: false,
      reason: 'mismatch',
    });
    expect(verify({ secret: 'another-secret-entirely' })).toMatchObject({ reason: 'mismatch' });
    // The 5-minute replay window, both ways.
    expect(verify({ now: 1_700_000_300 })).toMatchObject({ valid: true });
    expect(verify({ now: 1_700_000_301 })).toEqual({ valid: false, reason: 'expired' });
    expect(verify({ now: 1_699_999_699 })).toEqual({ valid: false, reason: 'expired' });
    expect(verify({ now: 1_700_000_500, toleranceSeconds: 600 })).toMatchObject({ valid: true });
  });

  it('refuses missing and malformed headers without throwing', () => {
    const check = (header: string | undefined) =>
      verifyWebhookSignature({ secret, header, body, now: 1_700_000_000 });
    expect(check(undefined)).toEqual({ valid: false, reason: 'missing' });
    expect(check('v1=abc')).toEqual({ valid: false, reason: 'malformed' });
    expect(check('t=soon,v1=abc')).toEqual({ valid: false, reason: 'malformed' });
    expect(check('t=1700000000')).toEqual({ valid: false, reason: 'malformed' });
    expect(check('t=1700000000,v1=zz')).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('accepts any matching v1 entry (a receiver rotating its secret lists both)', () => {
    const good = webhookSignature(secret, 1_700_000_000, body).split(',')[1]!;
    const header = `t=1700000000,v1=${'0'.repeat(64)},${good}`;
    expect(verifyWebhookSignature({ secret, header, body, now: 1_700_000_000 }).valid).toBe(true);
  });
});
