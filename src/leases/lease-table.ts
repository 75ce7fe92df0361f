// Leases by (profile, role) and the clients bound to them. Client ids are 256-bit random values used as
// bearer paths (/v1/creds/<id>); they are looked up by their SHA-256 so the table never compares raw ids.
import { createHash, randomBytes } from 'node:crypto';
import type { CredentialSource } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import { Lease } from './lease.js';

export interface RoleKey {
  profile?: string;
  roleArn?: string;
  /** a web identity token source (formatOidcSpec form, e.g. github:sts.amazonaws.com); roleArn is then the role it is exchanged for */
  oidc?: string;
}

/** A RoleKey of the parts given, with no empty member (keys are compared by their JSON). */
export function roleKey(parts: {
  profile?: string | undefined;
  roleArn?: string | undefined;
  oidc?: string | undefined;
}): RoleKey {
  return {
    ...(parts.profile ? { profile: parts.profile } : {}),
    ...(parts.roleArn ? { roleArn: parts.roleArn } : {}),
    ...(parts.oidc ? { oidc: parts.oidc } : {}),
  };
}

export interface ClientRecord {
  idHash: string;
  key: RoleKey;
  boundAddress?: string;
  /**
   * more addresses the id is good from: other running containers that carry the same id (compose
   * replicas, --scale), each confirmed with the engine on its first request
   */
  alsoAt?: string[];
  containerId?: string;
  /** for status: the container's name and image, when the server found it through the engine */
  containerName?: string;
  image?: string;
  label?: string;
  /** ms since the epoch */
  registeredAt?: number;
}

/** A client that no longer gets credentials: kept (bounded) so status can show it and it stays refused. */
export interface RevokedClient extends ClientRecord {
  revokedAt: number;
  /** 'revoked' (asked for: keyless ui, the control socket) or why the server dropped it */
  reason: string;
  /**
   * refused for good (asked for), as opposed to dropped because its container stopped: a container
   * that runs again with the same id (a restart policy, docker start) is served again
   */
  sticky: boolean;
}

export type ClientExtra = Pick<
  ClientRecord,
  'boundAddress' | 'containerId' | 'containerName' | 'image' | 'label'
>;

/** The part of a client's id hash that status, the audit log and the page show (and revoke by). */
export const CLIENT_TAG_LENGTH = 12;
/** Revoked clients remembered (the oldest are forgotten first). */
const REVOKED_KEPT = 1000;

export type SourceFactory = (key: RoleKey) => CredentialSource;

export function roleKeyString(key: RoleKey): string {
  return JSON.stringify([key.profile ?? '', key.roleArn ?? '', key.oidc ?? '']);
}

export function hashId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class LeaseTable {
  private readonly leases = new Map<string, Lease>();
  private readonly clients = new Map<string, ClientRecord>();
  /** revoked for good (asked for): evicted only by other revocations, never by container stops */
  private readonly revoked = new Map<string, RevokedClient>();
  /** dropped when their container stopped: served again when it runs again */
  private readonly dropped = new Map<string, RevokedClient>();
  private readonly keys = new Map<string, RoleKey>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly sourceFor: SourceFactory,
    private readonly options: {
      clock?: Clock;
      minRemainingMs?: number;
      /** with nothing valid left, how long a request waits on the source */
      waitMs?: number;
      log?: (line: string) => void;
    } = {},
  ) {}

  lease(key: RoleKey): Lease {
    const k = roleKeyString(key);
    let lease = this.leases.get(k);
    if (!lease) {
      lease = new Lease({
        source: this.sourceFor(key),
        label: key.roleArn ?? key.profile ?? 'default',
        ...(this.options.clock ? { clock: this.options.clock } : {}),
        ...(this.options.minRemainingMs !== undefined ? { minRemainingMs: this.options.minRemainingMs } : {}),
        ...(this.options.waitMs !== undefined ? { waitMs: this.options.waitMs } : {}),
        ...(this.options.log ? { log: this.options.log } : {}),
        onRefreshed: () => this.changed(),
      });
      this.leases.set(k, lease);
      this.keys.set(k, key);
      this.changed();
    }
    return lease;
  }

  /** Calls fn after a client or lease is added, bound, revoked or refreshed (never per request). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    for (const fn of this.listeners) fn();
  }

  private now(): number {
    return this.options.clock?.now() ?? Date.now();
  }

  /** Every lease with its key, in creation order. */
  leaseEntries(): { key: RoleKey; lease: Lease }[] {
    const out: { key: RoleKey; lease: Lease }[] = [];
    for (const [k, lease] of this.leases) out.push({ key: this.keys.get(k) ?? {}, lease });
    return out;
  }

  /** The clients that get credentials now. */
  clientRecords(): ClientRecord[] {
    return [...this.clients.values()];
  }

  /** Clients revoked or dropped (most recent last), bounded. */
  revokedClients(): RevokedClient[] {
    return [...this.dropped.values(), ...this.revoked.values()].sort((a, b) => a.revokedAt - b.revokedAt);
  }

  /** Whether this client was revoked for good: a resolver must not bring it back. */
  isRevoked(idHash: string): boolean {
    return this.revoked.has(idHash);
  }

  register(key: RoleKey, extra: ClientExtra = {}): { id: string; record: ClientRecord } {
    const id = randomBytes(32).toString('base64url');
    const record: ClientRecord = { idHash: hashId(id), key, ...extra, registeredAt: this.now() };
    this.clients.set(record.idHash, record);
    this.changed();
    return { id, record };
  }

  client(id: string): ClientRecord | undefined {
    return this.clients.get(hashId(id));
  }

  /**
   * Registers a client known only by the hash of its id (e.g. from a container label); undefined when
   * it was revoked for good (a lookup that started before the revocation must not bring it back).
   */
  registerHash(idHash: string, key: RoleKey, extra: ClientExtra = {}): ClientRecord | undefined {
    if (this.revoked.has(idHash)) return undefined;
    const record: ClientRecord = { idHash, key, ...extra, registeredAt: this.now() };
    // a client dropped when its container stopped is live again (the container runs again)
    this.dropped.delete(idHash);
    this.clients.set(idHash, record);
    this.changed();
    return record;
  }

  /**
   * Stops serving a client and remembers it as revoked, with the reason (default 'revoked'). Sticky
   * (the default): it stays refused; not sticky (drop): its container stopped, and the id is served
   * again only once a running container carrying it asks from its own address.
   */
  revokeHash(idHash: string, reason = 'revoked', sticky = true): boolean {
    // a dropped client (its container between a stop and a restart) can still be revoked for good
    const record = this.clients.get(idHash) ?? (sticky ? this.dropped.get(idHash) : undefined);
    if (!record) return false;
    this.clients.delete(idHash);
    this.dropped.delete(idHash);
    const into = sticky ? this.revoked : this.dropped;
    into.delete(idHash);
    into.set(idHash, { ...record, revokedAt: this.now(), reason, sticky });
    if (into.size > REVOKED_KEPT) {
      const oldest = into.keys().next().value;
      if (oldest !== undefined) into.delete(oldest);
    }
    this.changed();
    return true;
  }

  /** Drops a client whose container stopped (not for good: see revokeHash). */
  dropHash(idHash: string, reason: string): boolean {
    return this.revokeHash(idHash, reason, false);
  }

  /** One more address the client is good from (another running container with the same id). */
  allowAddress(idHash: string, address: string): void {
    const c = this.clients.get(idHash);
    if (!c || c.boundAddress === address || c.alsoAt?.includes(address)) return;
    c.alsoAt = [...(c.alsoAt ?? []), address];
    this.changed();
  }

  /**
   * Revokes the one live (or dropped, its container stopped for now) client whose id hash starts with
   * this tag; false when none or several do.
   */
  revokeTag(tag: string, reason = 'revoked'): boolean {
    if (!/^[0-9a-f]{12,64}$/.test(tag)) return false;
    const matches = [...this.clients.keys(), ...this.dropped.keys()].filter((h) => h.startsWith(tag));
    return matches.length === 1 && this.revokeHash(matches[0] as string, reason);
  }

  bind(id: string, address: string, containerId?: string): boolean {
    const c = this.client(id);
    if (!c) return false;
    c.boundAddress = address;
    if (containerId) c.containerId = containerId;
    this.changed();
    return true;
  }

  revoke(id: string): boolean {
    return this.revokeHash(hashId(id));
  }

  size(): number {
    return this.clients.size;
  }
}
