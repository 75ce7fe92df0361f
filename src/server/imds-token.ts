// IMDSv2 session tokens: "<expiry ms>.<nonce>.<HMAC>" under a per-server random key, checked in
// constant time. Nothing is stored per token.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const IMDS_TOKEN_TTL_MIN_SECONDS = 1;
export const IMDS_TOKEN_TTL_MAX_SECONDS = 21_600;

export class ImdsTokens {
  private readonly key = randomBytes(32);

  mint(ttlSeconds: number, now: number): string {
    const body = `${now + ttlSeconds * 1000}.${randomBytes(12).toString('base64url')}`;
    return `${body}.${this.sign(body)}`;
  }

  verify(token: string, now: number): boolean {
    const last = token.lastIndexOf('.');
    if (last <= 0 || token.length > 200) return false;
    const body = token.slice(0, last);
    const sig = Buffer.from(token.slice(last + 1));
    const expected = Buffer.from(this.sign(body));
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return false;
    const expiry = Number(body.split('.')[0]);
    return Number.isFinite(expiry) && expiry > now;
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/** The TTL header value, or undefined when missing or not a whole number in 1..21600. */
export function parseTokenTtl(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n >= IMDS_TOKEN_TTL_MIN_SECONDS && n <= IMDS_TOKEN_TTL_MAX_SECONDS ? n : undefined;
}
