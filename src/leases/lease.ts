// One cached, refreshing entry per (profile, role): memoize + coalesce (one STS call in flight however
// many clients ask) + refresh ahead (a client never gets credentials with less than `minRemainingMs`
// left while STS answers; half the lifetime for short sessions) + serve-stale (still-valid credentials
// keep being served while STS fails, retried with backoff).
import { KeylessError } from '../errors.js';
import type { Credentials, CredentialSource } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

export const DEFAULT_MIN_REMAINING_MS = 30 * 60_000;

/** What `keyless status` and the page show of a lease: times in ms since the epoch, never a secret. */
export interface LeaseState {
  /** the held session's access key id, redacted by the caller's choice of helper */
  accessKeyId?: string;
  /** the role the held session is for, when the source knows it (a profile's role_arn) */
  roleArn?: string;
  issuedAt?: number;
  expiresAt?: number;
  /** when a request will start the background refresh (refresh-ahead point) */
  refreshAt?: number;
  refreshing: boolean;
  refreshes: number;
  lastError?: string;
  /** after a failure: no new STS call before this */
  retryAt?: number;
}

export interface LeaseOptions {
  source: CredentialSource;
  clock?: Clock;
  minRemainingMs?: number;
  /** first retry delay after a failed refresh (doubles up to 5 min) */
  retryBaseMs?: number;
  log?: (line: string) => void;
  label?: string;
  /** with nothing valid left, how long a request waits on the source (default 20 s) */
  waitMs?: number;
  /** called after each refresh, successful or not (status displays; never per request) */
  onRefreshed?: () => void;
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

/** How long a request without any valid credentials waits on the source before the 5xx answer. */
export const DEFAULT_WAIT_MS = 20_000;

export class Lease {
  private current: Credentials | undefined;
  /** when the held credentials were issued (STS's issue time, else when first seen) */
  private issuedAt = 0;
  private inflight: Promise<Credentials> | undefined;
  private failures = 0;
  private retryAt = 0;
  private readonly clock: Clock;
  private readonly minRemainingMs: number;
  private readonly waitMs: number;
  /** STS calls made through this lease (for diagnostics) */
  refreshes = 0;
  /** the last refresh error, for status */
  lastError: string | undefined;

  constructor(private readonly options: LeaseOptions) {
    this.clock = options.clock ?? systemClock;
    this.minRemainingMs = options.minRemainingMs ?? DEFAULT_MIN_REMAINING_MS;
    this.waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  }

  /** The credentials held now, if any (not refreshed). */
  peek(): Credentials | undefined {
    return this.current;
  }

  /** A snapshot for status displays (the raw access key id: redact it before showing it). */
  state(): LeaseState {
    const c = this.current;
    const expiresAt = c?.expiration?.getTime();
    return {
      ...(c ? { accessKeyId: c.accessKeyId, issuedAt: this.issuedAt } : {}),
      ...(c?.roleArn ? { roleArn: c.roleArn } : {}),
      ...(c && expiresAt !== undefined
        ? {
            expiresAt,
            refreshAt: expiresAt - this.need(c) - Math.min(5 * 60_000, this.lifetime(c) / 10),
          }
        : {}),
      refreshing: this.inflight !== undefined,
      refreshes: this.refreshes,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.retryAt > this.clock.now() ? { retryAt: this.retryAt } : {}),
    };
  }

  /**
   * Asks the source now, whatever the held session's age and any retry backoff (the page's "refresh
   * now"); joins a refresh already in flight. Resolves to what the lease holds afterwards.
   */
  refreshNow(): Promise<Credentials> {
    this.inflight ??= this.refresh();
    return this.inflight;
  }

  /**
   * A user's explicit check (`keyless run` before it starts containers, `serve --daemon`): what get()
   * gives, except that with nothing valid held, a source that failed is asked again at once instead of
   * after the retry backoff: the user may just have added the keys or fixed the profile. Containers'
   * requests keep the backoff (it spares STS a storm).
   */
  check(): Promise<Credentials> {
    const cur = this.current;
    if (!cur || this.remaining(cur) <= 0) this.retryAt = 0;
    return this.get();
  }

  private remaining(c: Credentials): number {
    return c.expiration ? c.expiration.getTime() - this.clock.now() : Number.POSITIVE_INFINITY;
  }

  private lifetime(c: Credentials): number {
    return c.expiration ? c.expiration.getTime() - this.issuedAt : Number.POSITIVE_INFINITY;
  }

  /** What every answer keeps: min(minRemaining, half the session's lifetime). */
  private need(c: Credentials): number {
    return Math.min(this.minRemainingMs, this.lifetime(c) / 2);
  }

  private fresh(c: Credentials): boolean {
    return this.remaining(c) > this.need(c);
  }

  /** Refresh in the background once this close to `need` (a tenth of the lifetime, at most 5 min). */
  private dueSoon(c: Credentials): boolean {
    return this.remaining(c) <= this.need(c) + Math.min(5 * 60_000, this.lifetime(c) / 10);
  }

  private kick(): void {
    if (this.inflight || this.clock.now() < this.retryAt) return;
    this.inflight = this.refresh();
    this.inflight.catch(() => undefined);
  }

  /**
   * The held credentials when they need no refresh: the synchronous hot path. Starts a background
   * refresh ahead of time, so that while STS answers no client gets less than `need`.
   */
  cachedFresh(): Credentials | undefined {
    const cur = this.current;
    if (!cur || !this.fresh(cur)) return undefined;
    if (this.dueSoon(cur)) this.kick();
    return cur;
  }

  /**
   * Never blocks while the held credentials are still valid: they are served and the refresh runs in
   * the background. With nothing valid left, waits on the source at most `waitMs`, then fails.
   */
  get(): Promise<Credentials> {
    const cur = this.current;
    if (cur && this.remaining(cur) > 0) {
      if (this.dueSoon(cur)) this.kick();
      return Promise.resolve(cur);
    }
    if (!this.inflight && this.clock.now() < this.retryAt && this.lastError)
      return Promise.reject(
        new LeaseUnavailableError(this.options.label ?? 'credentials', new Error(this.lastError)),
      );
    this.inflight ??= this.refresh();
    const inflight = this.inflight;
    return new Promise<Credentials>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new LeaseUnavailableError(
              this.options.label ?? 'credentials',
              new Error(`the source (STS) did not answer within ${Math.round(this.waitMs / 1000)} s`),
            ),
          ),
        this.waitMs,
      );
      inflight.then(
        (c) => {
          clearTimeout(timer);
          resolve(c);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private async refresh(): Promise<Credentials> {
    const label = this.options.label ?? 'credentials';
    try {
      this.refreshes++;
      const started = this.clock.now();
      const c = await this.options.source();
      // the same session handed back (a source's cache) keeps its issue time
      if (c.accessKeyId !== this.current?.accessKeyId) this.issuedAt = c.issuedAt?.getTime() ?? started;
      this.current = c;
      this.failures = 0;
      this.retryAt = 0;
      this.lastError = undefined;
      return c;
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
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
      this.options.onRefreshed?.();
    }
  }
}
