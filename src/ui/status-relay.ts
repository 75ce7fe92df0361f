// One subscription to the credential server's live status, shared by every open page: opened when the
// first page subscribes, closed when the last one leaves, so no page means no work for the server.
import type { StatusClient, StatusSubscription } from '../server/status-client.js';
import type { AuditLineStatus, StatusEvent, StatusSnapshot } from '../server/status-types.js';

export type RelayListener = (event: StatusEvent) => void;

const AUDIT_KEEP = 500;

export class StatusRelay {
  private sub: StatusSubscription | undefined;
  private opening: Promise<void> | undefined;
  private latest: StatusSnapshot | undefined;
  private recent: AuditLineStatus[] = [];
  private readonly listeners = new Set<RelayListener>();

  /** onGone: the server ended the stream (it stopped or went away) while pages were open */
  constructor(
    private readonly client: StatusClient,
    private readonly onGone: () => void = () => undefined,
  ) {}

  get pages(): number {
    return this.listeners.size;
  }

  /** Adds a page: it gets the current snapshot and recent audit lines first, then every event. */
  async add(listener: RelayListener): Promise<() => void> {
    this.listeners.add(listener);
    try {
      if (this.sub || this.opening) {
        await this.opening;
        if (this.latest) listener({ type: 'snapshot', snapshot: this.latest });
        if (this.recent.length) listener({ type: 'audit', records: [...this.recent] });
      } else await this.open();
    } catch (err) {
      this.listeners.delete(listener);
      throw err;
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  private async open(): Promise<void> {
    this.opening = this.client
      .subscribe((event) => this.onEvent(event))
      .then((sub) => {
        this.sub = sub;
        void sub.ended.then(() => {
          if (this.sub !== sub) return; // closed by us
          this.sub = undefined;
          this.latest = undefined;
          this.broadcast({ type: 'stopping' });
          this.onGone();
        });
      })
      .finally(() => (this.opening = undefined));
    return this.opening;
  }

  private close(): void {
    const sub = this.sub;
    this.sub = undefined;
    this.latest = undefined;
    this.recent = [];
    sub?.close();
  }

  private onEvent(event: StatusEvent): void {
    if (event.type === 'snapshot') this.latest = event.snapshot;
    else if (event.type === 'audit') this.recent = [...this.recent, ...event.records].slice(-AUDIT_KEEP);
    this.broadcast(event);
  }

  private broadcast(event: StatusEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
