// What `keyless status --json`, the control socket's /status/snapshot and the page's /api/status carry:
// the server, its leases and its clients. Never a secret: access key ids are redacted, clients appear by
// a short tag of their id's hash. Schema: docs/schemas/status.v1.schema.json (keep the two in step).

export const STATUS_VERSION = 1;

export interface StatusSnapshot {
  version: typeof STATUS_VERSION;
  generatedAt: string;
  server: ServerInfoStatus;
  leases: LeaseStatus[];
  clients: ClientStatus[];
}

export interface ServerInfoStatus {
  pid: number;
  mode: 'host' | 'container';
  listen: string[];
  startedAt: string;
  uptimeSeconds: number;
  imds: boolean;
  network?: string;
  endpoint?: { container?: string; channel?: string; connected: boolean };
}

export interface LeaseStatus {
  /** short stable id (hash of profile and role) that the refresh action takes */
  id: string;
  /** the role ARN, else the profile */
  role: string;
  profile?: string;
  roleArn?: string;
  /** redacted (ASIA…WXYZ) */
  accessKeyId?: string;
  issuedAt?: string;
  expiresAt?: string;
  nextRefreshAt?: string;
  refreshing: boolean;
  /** STS calls made for this lease */
  refreshes: number;
  lastError?: string;
  retryAt?: string;
  /** live clients on this lease */
  clients: number;
}

export type ClientKind = 'container' | 'registered' | 'full-uri' | 'imds';
export type ClientState = 'bound' | 'unbound' | 'revoked';

export interface ClientStatus {
  /** the first 12 hex digits of the SHA-256 of the client's id (as in the audit log); revoke takes it */
  tag: string;
  kind: ClientKind;
  state: ClientState;
  revokedAt?: string;
  revokedReason?: string;
  container?: { id: string; name?: string; image?: string };
  label?: string;
  /** the address the client is bound to, else the last one it asked from */
  address?: string;
  role: string;
  profile?: string;
  roleArn?: string;
  leaseId?: string;
  /** when the credentials it was last handed expire (its lease's) */
  expiresAt?: string;
  registeredAt?: string;
  firstRequestAt?: string;
  lastRequestAt?: string;
  requests: number;
  /** requests refused (wrong address, after revocation, bad token) */
  refused: number;
}

/**
 * What `keyless status --json` prints: the server's snapshot, plus the Swarm agent's tasks when an agent
 * runs for this KEYLESS_HOME (then the server's part may be absent, when no server runs).
 */
export interface StatusReport {
  version: typeof STATUS_VERSION;
  generatedAt: string;
  server?: ServerInfoStatus;
  leases?: LeaseStatus[];
  clients?: ClientStatus[];
  swarm?: SwarmAgentStatus;
}

/** `keyless swarm agent` as its status socket reports it. */
export interface SwarmAgentStatus {
  pid: number;
  listen: string;
  startedAt: string;
  tasks: SwarmTaskStatus[];
}

/** A Swarm task that asked the agent for credentials. */
export interface SwarmTaskStatus {
  task: string;
  service: string;
  address: string;
  role: string;
  /** redacted */
  accessKeyId?: string;
  expiresAt?: string;
  firstRequestAt: string;
  lastRequestAt: string;
  requests: number;
  refused: number;
}

/** One event of the live stream (control socket /status/events, the page's /api/events). */
export type StatusEvent =
  | { type: 'snapshot'; snapshot: StatusSnapshot }
  | { type: 'audit'; records: AuditLineStatus[] }
  | { type: 'stopping' };

/** An audit log line as written (folded: `count` requests until `until`). */
export interface AuditLineStatus {
  time: string;
  outcome: string;
  endpoint?: string;
  source?: string;
  client?: string;
  container?: string;
  role?: string;
  key?: string;
  count?: number;
  until?: string;
}
