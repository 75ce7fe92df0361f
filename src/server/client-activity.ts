// Per-client request activity (first and last request, count, refusals) folded from the audit log's
// batches, so the credential hot path does no extra work for status: the audit log already folds
// requests per interval, and this reads each batch once.
import type { AuditRecord } from '../leases/audit-log.js';

export interface Activity {
  first: number;
  last: number;
  requests: number;
  refused: number;
  /** the address of the last request */
  address?: string;
}

const REFUSED = new Set(['wrong-address', 'unknown-client', 'unauthorized']);
/** tags followed at most (the least recently active are forgotten first) */
const MAX_TRACKED = 5000;

export class ClientActivity {
  private readonly byTag = new Map<string, Activity>();

  /** Folds one audit batch in; true when it concerned any client. */
  apply(records: readonly AuditRecord[]): boolean {
    let changed = false;
    for (const r of records) {
      const tag = r.client;
      if (!tag) continue;
      const first = Date.parse(r.time);
      const last = r.until ? Date.parse(r.until) : first;
      if (Number.isNaN(first)) continue;
      const count = r.count ?? 1;
      let a = this.byTag.get(tag);
      if (!a) {
        a = { first, last, requests: 0, refused: 0 };
        this.byTag.set(tag, a);
      } else {
        a.first = Math.min(a.first, first);
        a.last = Math.max(a.last, last);
      }
      if (r.outcome === 'ok') a.requests += count;
      else if (REFUSED.has(r.outcome)) a.refused += count;
      if (r.source) a.address = r.source;
      changed = true;
    }
    if (this.byTag.size > MAX_TRACKED) this.forgetOldest(this.byTag.size - MAX_TRACKED);
    return changed;
  }

  get(tag: string): Activity | undefined {
    return this.byTag.get(tag);
  }

  private forgetOldest(n: number): void {
    const oldest = [...this.byTag.entries()].sort((a, b) => a[1].last - b[1].last).slice(0, n);
    for (const [tag] of oldest) this.byTag.delete(tag);
  }
}
