// The server side of live status: folds audit batches into per-client activity, builds snapshots, feeds
// the hub, and carries out the page's actions (revoke a client, refresh a lease, stop the server).
// keyless serve wires it to the lease table, the audit log and the control socket.
import type { AuditRecord } from '../leases/audit-log.js';
import type { LeaseTable, RoleKey } from '../leases/lease-table.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { ClientActivity } from './client-activity.js';
import { StatusHub, type StatusSubscriber } from './status-hub.js';
import { buildStatusSnapshot, leaseId, redactKeyIds, type ServerFacts } from './status-snapshot.js';
import type { StatusSnapshot } from './status-types.js';

export interface StatusService {
  snapshot(): StatusSnapshot;
  subscribe(send: StatusSubscriber): () => void;
  /** hand every audit batch here (fileAuditLog's onBatch) */
  onAuditBatch(records: readonly AuditRecord[]): void;
  revokeClient(tag: string): boolean;
  /** asks STS now; undefined when no lease has this id, else the error text (redacted) or '' */
  refreshLease(id: string): Promise<string | undefined>;
  /** stops the server (after the answer went out) */
  stop(): void;
  /** the server is shutting down: subscribers are told and their streams end */
  closeSubscribers(): void;
  readonly subscribers: number;
}

export interface StatusServiceOptions {
  table: LeaseTable;
  facts: () => ServerFacts;
  defaultKey: RoleKey;
  stop: () => void;
  clock?: Clock;
  intervalMs?: number;
}

export function createStatusService(options: StatusServiceOptions): StatusService {
  const clock = options.clock ?? systemClock;
  const activity = new ClientActivity();
  const snapshot = (): StatusSnapshot =>
    buildStatusSnapshot({
      now: clock.now(),
      server: options.facts(),
      table: options.table,
      activity: (tag) => activity.get(tag),
      defaultKey: options.defaultKey,
    });
  const hub = new StatusHub({
    snapshot,
    ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
  });
  options.table.onChange(() => hub.changed());
  return {
    snapshot,
    subscribe: (send) => hub.subscribe(send),
    onAuditBatch: (records) => {
      activity.apply(records);
      hub.audit(records);
    },
    revokeClient: (tag) => options.table.revokeTag(tag),
    refreshLease: async (id) => {
      const entry = options.table.leaseEntries().find((e) => leaseId(e.key) === id);
      if (!entry) return undefined;
      hub.changed();
      try {
        await entry.lease.refreshNow();
        return entry.lease.state().lastError ? redactKeyIds(entry.lease.state().lastError ?? '') : '';
      } catch (err) {
        return redactKeyIds((err as Error).message);
      } finally {
        hub.changed();
      }
    },
    stop: () => {
      hub.stopping();
      options.stop();
    },
    closeSubscribers: () => hub.stopping(),
    get subscribers() {
      return hub.subscriberCount;
    },
  };
}
