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

export interface ClientRecord {
  idHash: string;
  key: RoleKey;
  boundAddress?: string;
  containerId?: string;
  label?: string;
}

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
      });
      this.leases.set(k, lease);
    }
    return lease;
  }

  register(
    key: RoleKey,
    extra: { boundAddress?: string; containerId?: string; label?: string } = {},
  ): { id: string; record: ClientRecord } {
    const id = randomBytes(32).toString('base64url');
    const record: ClientRecord = { idHash: hashId(id), key, ...extra };
    this.clients.set(record.idHash, record);
    return { id, record };
  }

  client(id: string): ClientRecord | undefined {
    return this.clients.get(hashId(id));
  }

  /** Registers a client known only by the hash of its id (e.g. from a container label). */
  registerHash(
    idHash: string,
    key: RoleKey,
    extra: { boundAddress?: string; containerId?: string; label?: string } = {},
  ): ClientRecord {
    const record: ClientRecord = { idHash, key, ...extra };
    this.clients.set(idHash, record);
    return record;
  }

  revokeHash(idHash: string): boolean {
    return this.clients.delete(idHash);
  }

  bind(id: string, address: string, containerId?: string): boolean {
    const c = this.client(id);
    if (!c) return false;
    c.boundAddress = address;
    if (containerId) c.containerId = containerId;
    return true;
  }

  revoke(id: string): boolean {
    return this.clients.delete(hashId(id));
  }

  size(): number {
    return this.clients.size;
  }
}
