// One cached, refreshing entry per (profile, role): memoize + coalesce (one STS call in flight however
// many clients ask) + refresh ahead (a client never gets credentials with less than `minRemainingMs`
// left while STS answers; half the lifetime for short sessions) + serve-stale (still-valid credentials
// keep being served while STS fails, retried with backoff).
import { KeylessError } from '../errors.js';
import type { Credentials, CredentialSource } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

export const DEFAULT_MIN_REMAINING_MS = 30 * 60_000;

export interface LeaseOptions {
  source: CredentialSource;
  clock?: Clock;
  minRemainingMs?: number;
  /** first retry delay after a failed refresh (doubles up to 5 min) */
  retryBaseMs?: number;
  log?: (line: string) => void;
  label?: string;
}

export class LeaseUnavailableError extends KeylessError {
  constructor(label: string, cause: unknown) {
    super(
      'SERVER_CREDENTIALS_UNAVAILABLE',
      `no valid credentials for ${label}: ${(cause as Error)?.message ?? String(cause)}`,
      {
        cause,
        exitCode: 1,
      },
    );
  }
}

export class Lease {
  private current: Credentials | undefined;
  private fetchedAt = 0;
  private inflight: Promise<Credentials> | undefined;
  private failures = 0;
  private retryAt = 0;
  private readonly clock: Clock;
  private readonly minRemainingMs: number;
  /** STS calls made through this lease (for diagnostics) */
  refreshes = 0;

  constructor(private readonly options: LeaseOptions) {
    this.clock = options.clock ?? systemClock;
    this.minRemainingMs = options.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS;
  }

  /** The credentials held now, if any (not refreshed). */
  peek(): Credentials | undefined {
    return this.current;
  }

  private remaining(c: Credentials): number {
    return c.expiration ? c.expiration.getTime() - this.clock.now() : Number.POSITIVE_INFINITY;
  }

  private fresh(c: Credentials): boolean {
    const lifetime = c.expiration ? c.expiration.getTime() - this.fetchedAt : Number.POSITIVE_INFINITY;
    return this.remaining(c) > Math.min(this.minRemainingMs, lifetime / 2);
  }

  /** The held credentials when they need no refresh: the synchronous hot path. */
  cachedFresh(): Credentials | undefined {
    const cur = this.current;
    return cur && this.fresh(cur) ? cur : undefined;
  }

  get(): Promise<Credentials> {
    const cur = this.current;
    if (cur && this.fresh(cur)) return Promise.resolve(cur);
    // after a failure, keep serving what is valid until the backoff has passed
    if (cur && this.remaining(cur) > 0 && this.clock.now() < this.retryAt) return Promise.resolve(cur);
    this.inflight ??= this.refresh();
    return this.inflight;
  }

  private async refresh(): Promise<Credentials> {
    const label = this.options.label ?? 'credentials';
    try {
      this.refreshes++;
      const started = this.clock.now();
      const c = await this.options.source();
      this.current = c;
      this.fetchedAt = started;
      this.failures = 0;
      this.retryAt = 0;
      return c;
    } catch (err) {
      this.failures++;
      const delay = Math.min((this.options.retryBaseMs ?? 1000) * 2 ** (this.failures - 1), 5 * 60_000);
      this.retryAt = this.clock.now() + delay;
      const cur = this.current;
      if (cur && this.remaining(cur) > 0) {
        this.options.log?.(
          `${label}: refresh failed (${(err as Error).message}); serving the still-valid session, retry in ${Math.round(delay / 1000)} s`,
        );
        return cur;
      }
      this.options.log?.(`${label}: refresh failed and nothing valid is left: ${(err as Error).message}`);
      throw new LeaseUnavailableError(label, err);
    } finally {
      this.inflight = undefined;
    }
  }
}
