// Live status for subscribers (keyless status --watch, keyless ui): sends a snapshot when something
// changed (a client or lease added, bound or revoked, an audit batch, a lease refreshed), never per
// request. With no subscriber it does nothing but keep the last audit lines for the next one.
import type { AuditRecord } from '../leases/audit-log.js';
import type { AuditLineStatus, StatusEvent, StatusSnapshot } from './status-types.js';

export interface StatusHubOptions {
  snapshot: () => StatusSnapshot;
  /** while subscribed, how often lease states (refreshes, expiry) are looked at (default 1000 ms) */
  intervalMs?: number;
  /** a change is sent after this quiet delay, so a burst becomes one event (default 50 ms) */
  debounceMs?: number;
  /** audit lines kept for a new subscriber (default 200) */
  auditKeep?: number;
}

export type StatusSubscriber = (event: StatusEvent) => void;

/** The snapshot without what changes every second by itself (uptime, time of the snapshot). */
function stableKey(s: StatusSnapshot): string {
  return JSON.stringify({ ...s, generatedAt: '', server: { ...s.server, uptimeSeconds: 0 } });
}

export class StatusHub {
  private readonly subscribers = new Set<StatusSubscriber>();
  private recent: AuditLineStatus[] = [];
  private lastKey = '';
  private poll: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly debounceMs: number;
  private readonly auditKeep: number;

  constructor(private readonly options: StatusHubOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.debounceMs = options.debounceMs ?? 50;
    this.auditKeep = options.auditKeep ?? 200;
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  subscribe(send: StatusSubscriber): () => void {
    this.subscribers.add(send);
    const snapshot = this.options.snapshot();
    if (this.subscribers.size === 1) this.lastKey = stableKey(snapshot);
    send({ type: 'snapshot', snapshot });
    if (this.recent.length > 0) send({ type: 'audit', records: [...this.recent] });
    this.poll ??= setInterval(() => this.push(), this.intervalMs);
    this.poll.unref();
    return () => {
      this.subscribers.delete(send);
      if (this.subscribers.size === 0) this.stopTimers();
    };
  }

  /** Something changed: subscribers get a snapshot shortly (one for a burst of changes). */
  changed(): void {
    if (this.subscribers.size === 0 || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.push();
    }, this.debounceMs);
    this.pending.unref();
  }

  /** An audit batch, as written to the log. */
  audit(records: readonly AuditRecord[]): void {
    const lines = records.map((r) => JSON.parse(JSON.stringify(r)) as AuditLineStatus);
    this.recent = [...this.recent, ...lines].slice(-this.auditKeep);
    if (this.subscribers.size === 0) return;
    this.send({ type: 'audit', records: lines });
    this.changed();
  }

  /** The server is stopping: tells subscribers, then forgets them. */
  stopping(): void {
    this.send({ type: 'stopping' });
    this.subscribers.clear();
    this.stopTimers();
  }

  private push(): void {
    if (this.subscribers.size === 0) return;
    const snapshot = this.options.snapshot();
    const key = stableKey(snapshot);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.send({ type: 'snapshot', snapshot });
  }

  private send(event: StatusEvent): void {
    for (const s of [...this.subscribers]) {
      try {
        s(event);
      } catch {
        this.subscribers.delete(s);
      }
    }
  }

  private stopTimers(): void {
    if (this.poll) clearInterval(this.poll);
    if (this.pending) clearTimeout(this.pending);
    this.poll = undefined;
    this.pending = undefined;
  }
}
