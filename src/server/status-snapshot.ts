// Builds the status snapshot from the lease table, the folded request activity and the server's facts.
// Pure: the clock's reading comes in as `now`. Every access key id is redacted here, including any that
// an STS error message might quote.
import { createHash } from 'node:crypto';
import type { LeaseTable, RoleKey, ClientRecord, RevokedClient } from '../leases/lease-table.js';
import { CLIENT_TAG_LENGTH, roleKeyString } from '../leases/lease-table.js';
import type { LeaseState } from '../leases/lease.js';
import { redactAccessKeyId } from '../util/redact.js';
import type { Activity } from './client-activity.js';
import {
  STATUS_VERSION,
  type ClientStatus,
  type LeaseStatus,
  type ServerInfoStatus,
  type StatusSnapshot,
} from './status-types.js';

export interface ServerFacts {
  pid: number;
  mode: 'host' | 'container';
  listen: string[];
  startedAt: number;
  imds: boolean;
  network?: string;
  endpoint?: { container?: string; channel?: string; connected: boolean };
}

export interface SnapshotInput {
  now: number;
  server: ServerFacts;
  table: LeaseTable;
  activity: (tag: string) => Activity | undefined;
  /** the role of the full-URI token and of IMDS */
  defaultKey: RoleKey;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();

/** Access key ids in free text (an STS error message) → redacted. */
export function redactKeyIds(text: string): string {
  return text.replace(/\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA)[A-Z0-9]{12,}\b/g, (id) => redactAccessKeyId(id));
}

export function leaseId(key: RoleKey): string {
  return createHash('sha256').update(roleKeyString(key)).digest('hex').slice(0, CLIENT_TAG_LENGTH);
}

/** The role asked for, else the one the lease's session is for (a profile's role_arn), else the profile. */
const roleOf = (key: RoleKey, served?: string): string => key.roleArn ?? served ?? key.profile ?? 'default';

interface LeaseFacts {
  expiresAt?: number;
  roleArn?: string;
}

/** Drops undefined fields, so the JSON and the schema see only what is known. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function leaseStatus(key: RoleKey, s: LeaseState, clients: number): LeaseStatus {
  return defined({
    id: leaseId(key),
    role: roleOf(key, s.roleArn),
    profile: key.profile,
    roleArn: key.roleArn ?? s.roleArn,
    accessKeyId: s.accessKeyId === undefined ? undefined : redactAccessKeyId(s.accessKeyId),
    issuedAt: iso(s.issuedAt),
    expiresAt: iso(s.expiresAt),
    nextRefreshAt: iso(s.refreshAt),
    refreshing: s.refreshing,
    refreshes: s.refreshes,
    lastError: s.lastError === undefined ? undefined : redactKeyIds(s.lastError),
    retryAt: iso(s.retryAt),
    clients,
  });
}

function clientStatus(
  c: ClientRecord | RevokedClient,
  activity: Activity | undefined,
  lease: LeaseFacts | undefined,
): ClientStatus {
  const revoked = 'revokedAt' in c;
  return defined({
    tag: c.idHash.slice(0, CLIENT_TAG_LENGTH),
    kind: c.containerId ? 'container' : 'registered',
    state: revoked ? 'revoked' : c.boundAddress !== undefined ? 'bound' : 'unbound',
    revokedAt: revoked ? iso(c.revokedAt) : undefined,
    revokedReason: revoked ? c.reason : undefined,
    container: c.containerId
      ? defined({ id: c.containerId, name: c.containerName, image: c.image })
      : undefined,
    label: c.label,
    address: c.boundAddress ?? activity?.address,
    role: roleOf(c.key, lease?.roleArn),
    profile: c.key.profile,
    roleArn: c.key.roleArn ?? lease?.roleArn,
    leaseId: leaseId(c.key),
    expiresAt: revoked ? undefined : iso(lease?.expiresAt),
    registeredAt: iso(c.registeredAt),
    firstRequestAt: iso(activity?.first),
    lastRequestAt: iso(activity?.last),
    requests: activity?.requests ?? 0,
    refused: activity?.refused ?? 0,
  } satisfies ClientStatus);
}

export function buildStatusSnapshot(input: SnapshotInput): StatusSnapshot {
  const { table, now } = input;
  const live = table.clientRecords();
  const facts = new Map<string, LeaseFacts>();
  const leases: LeaseStatus[] = table.leaseEntries().map(({ key, lease }) => {
    const state = lease.state();
    const k = roleKeyString(key);
    facts.set(k, { expiresAt: state.expiresAt, roleArn: state.roleArn });
    return leaseStatus(key, state, live.filter((c) => roleKeyString(c.key) === k).length);
  });
  const clients: ClientStatus[] = [];
  for (const c of [...live, ...table.revokedClients()])
    clients.push(
      clientStatus(c, input.activity(c.idHash.slice(0, CLIENT_TAG_LENGTH)), facts.get(roleKeyString(c.key))),
    );
  // the holders of the full-URI token and IMDS callers share one role each; shown once they asked
  for (const kind of ['full-uri', 'imds'] as const) {
    const a = input.activity(kind);
    if (!a) continue;
    const lease = facts.get(roleKeyString(input.defaultKey));
    clients.push(
      defined({
        tag: kind,
        kind,
        // a token (or IMDS) is not tied to an address
        state: 'unbound',
        address: a.address,
        role: roleOf(input.defaultKey, lease?.roleArn),
        profile: input.defaultKey.profile,
        roleArn: input.defaultKey.roleArn ?? lease?.roleArn,
        leaseId: leaseId(input.defaultKey),
        expiresAt: iso(lease?.expiresAt),
        firstRequestAt: iso(a.first),
        lastRequestAt: iso(a.last),
        requests: a.requests,
        refused: a.refused,
      } satisfies ClientStatus),
    );
  }
  const s = input.server;
  const server: ServerInfoStatus = defined({
    pid: s.pid,
    mode: s.mode,
    listen: s.listen,
    startedAt: new Date(s.startedAt).toISOString(),
    uptimeSeconds: Math.max(0, Math.round((now - s.startedAt) / 1000)),
    imds: s.imds,
    network: s.network,
    endpoint: s.endpoint ? defined({ ...s.endpoint }) : undefined,
  });
  return { version: STATUS_VERSION, generatedAt: new Date(now).toISOString(), server, leases, clients };
}
