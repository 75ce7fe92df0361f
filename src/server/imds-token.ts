// IMDSv2 session tokens: "<expiry ms>.<nonce>[.<subject>].<HMAC>" under a per-server random key,
// checked in constant time. Nothing is stored per token. The subject, when there is one, is the hash
// of the client id of the container the token was issued to: a token says whose it is, so a container
// that takes over a stopped one's address cannot be mistaken for it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const IMDS_TOKEN_TTL_MIN_SECONDS = 1;
export const IMDS_TOKEN_TTL_MAX_SECONDS = 21_600;

export class ImdsTokens {
  private readonly key = randomBytes(32);

  mint(ttlSeconds: number, now: number, subject?: string): string {
    if (subject !== undefined && !/^[0-9a-f]{64}$/.test(subject)) throw new Error('bad token subject');
    const body = `${now + ttlSeconds * 1000}.${randomBytes(12).toString('base64url')}${subject ? `.${subject}` : ''}`;
    return `${body}.${this.sign(body)}`;
  }

  /** A valid, unexpired token → its subject ('' when it has none); otherwise undefined. */
  check(token: string, now: number): { subject: string } | undefined {
    const last = token.lastIndexOf('.');
    if (last <= 0 || token.length > 200) return undefined;
    const body = token.slice(0, last);
    const sig = Buffer.from(token.slice(last + 1));
    const expected = Buffer.from(this.sign(body));
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return undefined;
    const [expiry, , subject] = body.split('.');
    const ms = Number(expiry);
    return Number.isFinite(ms) && ms > now ? { subject: subject ?? '' } : undefined;
  }

  verify(token: string, now: number): boolean {
    return this.check(token, now) !== undefined;
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
