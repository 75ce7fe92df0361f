// The credential endpoints, on bare node:http (the hot path stays lean): the ECS container-credentials
// endpoint (relative URI per client, or full URI with an Authorization token) and an IMDSv2-compatible
// endpoint. Error bodies are ECS's JSON {"Code","Message"}; nothing reveals another client's id or
// credentials. Protocol notes: shared/docs/reference/credential-serving.md.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { AuditLog } from '../leases/audit-log.js';
import type { ClientRecord, LeaseTable, RoleKey } from '../leases/lease-table.js';
import { hashId } from '../leases/lease-table.js';
import type { Credentials } from '../sources/types.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { redactAccessKeyId } from '../util/redact.js';
import { timingSafeEqual } from 'node:crypto';
import { ImdsTokens, parseTokenTtl } from './imds-token.js';

export const ECS_RELATIVE_PREFIX = '/v1/creds/';
export const ECS_FULL_PATH = '/v1/credentials';
export const IMDS_TOKEN_PATH = '/latest/api/token';
export const IMDS_TOKEN_HEADER = 'x-aws-ec2-metadata-token';
export const IMDS_TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const IMDS_CREDS_PREFIX = '/latest/meta-data/iam/security-credentials/';

export interface HandlerOptions {
  table: LeaseTable;
  /** full-URI mode: the token clients send in Authorization, and the role it gets */
  fullUri?: { token: string; key: RoleKey };
  /** IMDS: the role served, and its name in security-credentials/ */
  imds?: { key: RoleKey; roleName: string; region: string; allowV1?: boolean; hopLimit?: number };
  /** which source addresses count as a container network (for the hop limit); default: not this host's */
  isContainerAddress?: (address: string) => boolean;
  audit?: AuditLog;
  clock?: Clock;
  /**
   * Looks up a client the table does not know yet (a container started by `keyless run`, found by the
   * hash of its id in a label) and registers it; undefined when there is none.
   */
  resolveClient?: (idHash: string, address: string) => Promise<ClientRecord | undefined>;
  /**
   * A known client asked from an address it is not bound to: whether a running container carrying the
   * same id has that address (a compose replica, --scale). Only then is it served (and the address
   * kept); otherwise the caller presents a stolen id and gets 403. Asked only on such a mismatch.
   */
  confirmClientAddress?: (idHash: string, address: string) => Promise<boolean>;
  /**
   * IMDS per container: the client a container address belongs to (a container started by `keyless
   * run`, found through the engine by its address), whose role its IMDS requests get. A container
   * address with no client gets no role. Without it, every IMDS caller gets options.imds.key.
   */
  resolveImdsClient?: (address: string, fresh?: boolean) => Promise<ClientRecord | undefined>;
  /** failed authorizations per address per minute before 429 (default 20) */
  failureLimit?: number;
}

/** ECS's date format, YYYY-MM-DDTHH:MM:SSZ. */
export function ecsDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The name IMDS lists a role under: the role ARN's last path part, else the profile. */
export function imdsRoleName(key: RoleKey): string {
  const fromArn = /:role\/(?:.*\/)?([^/]+)$/.exec(key.roleArn ?? '')?.[1];
  return fromArn ?? key.profile ?? 'keyless';
}

const accountOf = (key: RoleKey): string => /:(\d{12}):/.exec(key.roleArn ?? '')?.[1] ?? '000000000000';

export function hostAddresses(): Set<string> {
  const set = new Set<string>(['127.0.0.1', '::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) set.add(a.address);
  return set;
}

function plainAddress(a: string | undefined): string {
  if (a === undefined) return '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * The request handler. `address` is the caller's address when a relay (the endpoint container) passed
 * it on; otherwise the socket's peer.
 */
export function createHandler(
  options: HandlerOptions,
): (req: IncomingMessage, res: ServerResponse, address?: string) => void {
  const clock = options.clock ?? systemClock;
  const tokens = new ImdsTokens();
  const failureLimit = options.failureLimit ?? 20;
  const failures = new Map<string, { count: number; since: number }>();
  const local = hostAddresses();
  const isContainer = options.isContainerAddress ?? ((a: string) => !local.has(a) && !a.startsWith('127.'));
  const bodies = new WeakMap<Credentials, string>();
  const imdsBodies = new WeakMap<Credentials, string>();
  const audit = options.audit ?? (() => undefined);
  // constant-time comparison of the bytes; only the length can differ in time, and the token's length
  // is no secret (32 random bytes, base64url: always 43 characters). Hashing each request's header
  // first cost about 1.5 us on the hot path.
  const tokenBytes = options.fullUri ? Buffer.from(options.fullUri.token, 'utf8') : undefined;
  const tokenMatches = (auth: string): boolean => {
    if (tokenBytes === undefined || Buffer.byteLength(auth, 'utf8') !== tokenBytes.length) return false;
    return timingSafeEqual(Buffer.from(auth, 'utf8'), tokenBytes);
  };

  const send = (res: ServerResponse, status: number, body: string, type = 'application/json'): void => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const error = (res: ServerResponse, status: number, code: string, message: string): void =>
    send(res, status, JSON.stringify({ Code: code, Message: message }));

  const limited = (address: string): boolean => {
    const f = failures.get(address);
    if (!f) return false;
    if (clock.now() - f.since > 60_000) {
      failures.delete(address);
      return false;
    }
    return f.count >= failureLimit;
  };
  const fail = (address: string): void => {
    const f = failures.get(address);
    if (!f || clock.now() - f.since > 60_000) failures.set(address, { count: 1, since: clock.now() });
    else f.count++;
  };

  /**
   * A failed authorization: counted per address; past the limit the answer is 429 instead. Only
   * failures are limited: a valid credential request is always served, whatever else came from the
   * same address (on a host every client is 127.0.0.1).
   */
  const refuse = (
    res: ServerResponse,
    address: string,
    status: number,
    code: string,
    message: string,
  ): void => {
    if (limited(address))
      return error(
        res,
        429,
        'TooManyRequests',
        'too many failed authorizations from this address; wait a minute',
      );
    fail(address);
    error(res, status, code, message);
  };

  const ecsBody = (c: Credentials, key: RoleKey): string => {
    let b = bodies.get(c);
    if (b === undefined) {
      b = JSON.stringify({
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken ?? '',
        Expiration: c.expiration ? ecsDate(c.expiration) : undefined,
        RoleArn: c.roleArn ?? key.roleArn ?? '',
      });
      bodies.set(c, b);
    }
    return b;
  };

  let fullUriLease: ReturnType<LeaseTable['lease']> | undefined;
  const redacted = new WeakMap<Credentials, string>();
  const keyOf = (c: Credentials): string => {
    let k = redacted.get(c);
    if (k === undefined) redacted.set(c, (k = redactAccessKeyId(c.accessKeyId)));
    return k;
  };
  // audit entries are built as one literal of a fixed shape (undefined fields drop out of the JSON):
  // an object spread here cost ~4 us per request, a third of the hot path
  const serveLease = (
    res: ServerResponse,
    key: RoleKey,
    source: string,
    endpoint: 'ecs' | 'imds',
    client: string | undefined,
    container: string | undefined,
    render: (c: Credentials) => string,
  ): void => {
    // the full-URI role's lease is looked up once, not per request (the hot path)
    const lease =
      key === options.fullUri?.key ? (fullUriLease ??= options.table.lease(key)) : options.table.lease(key);
    const role = key.roleArn ?? key.profile;
    const ready = lease.cachedFresh();
    if (ready) {
      send(res, 200, render(ready));
      if (options.audit)
        audit({ source, endpoint, client, container, role, outcome: 'ok', key: keyOf(ready) });
      return;
    }
    lease
      .get()
      .then((c) => {
        send(res, 200, render(c));
        audit({ source, endpoint, client, container, role, outcome: 'ok', key: keyOf(c) });
      })
      .catch((err: Error) => {
        error(res, 500, 'CredentialsUnavailable', err.message);
        audit({ source, endpoint, client, container, role, outcome: 'unavailable' });
      });
  };

  const ecs = (req: IncomingMessage, res: ServerResponse, url: string, address: string): void => {
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return error(res, 405, 'MethodNotAllowed', 'use GET');
    }
    if (url === ECS_FULL_PATH || url.startsWith(`${ECS_FULL_PATH}?`)) {
      const auth = req.headers.authorization;
      if (!options.fullUri || typeof auth !== 'string' || !tokenMatches(auth)) {
        audit({ source: address, endpoint: 'ecs', outcome: 'unauthorized' });
        return refuse(res, address, 401, 'Unauthorized', 'the Authorization header is missing or wrong');
      }
      return serveLease(res, options.fullUri.key, address, 'ecs', 'full-uri', undefined, (c) =>
        ecsBody(c, options.fullUri?.key ?? {}),
      );
    }
    const id = url.slice(ECS_RELATIVE_PREFIX.length).split('?')[0] ?? '';
    const client = id.length > 0 && id.length < 200 ? options.table.client(id) : undefined;
    if (!client && options.resolveClient && id.length > 0 && id.length < 200) {
      // an address past its failure limit asks the engine no more (each lookup costs dockerd work)
      if (limited(address)) return unknownClient(res, id, address);
      const resolve = options.resolveClient;
      resolve(hashId(id), address)
        .then((found) => (found ? relative(req, res, id, found, address) : unknownClient(res, id, address)))
        .catch((err: Error) => error(res, 500, 'InternalError', `cannot look up the client: ${err.message}`));
      return;
    }
    if (!client) return unknownClient(res, id, address);
    return relative(req, res, id, client, address);
  };

  const unknownClient = (res: ServerResponse, id: string, address: string): void => {
    const clientTag = id ? hashId(id).slice(0, 12) : undefined;
    audit({
      source: address,
      endpoint: 'ecs',
      outcome: 'unknown-client',
      ...(clientTag ? { client: clientTag } : {}),
    });
    refuse(res, address, 404, 'NotFound', 'no credentials are issued at this path');
  };

  const relative = (
    _req: IncomingMessage,
    res: ServerResponse,
    id: string,
    client: ClientRecord,
    address: string,
    confirmed = false,
  ): void => {
    const clientTag = hashId(id).slice(0, 12);
    const elsewhere =
      client.boundAddress !== undefined &&
      client.boundAddress !== address &&
      !client.alsoAt?.includes(address);
    if (elsewhere && options.confirmClientAddress && !confirmed && !limited(address)) {
      options
        .confirmClientAddress(client.idHash, address)
        .then((ok) => {
          if (ok) options.table.allowAddress(client.idHash, address);
          relative(_req, res, id, client, address, true);
        })
        .catch((err: Error) => error(res, 500, 'InternalError', `cannot look up the client: ${err.message}`));
      return;
    }
    if (elsewhere) {
      audit({
        source: address,
        endpoint: 'ecs',
        outcome: 'wrong-address',
        client: clientTag as string,
        ...(client.containerId ? { container: client.containerId } : {}),
      });
      return refuse(res, address, 403, 'AccessDenied', 'these credentials are bound to another address');
    }
    return serveLease(res, client.key, address, 'ecs', clientTag, client.containerId, (c) =>
      ecsBody(c, client.key),
    );
  };

  const imds = (req: IncomingMessage, res: ServerResponse, url: string, address: string): void => {
    const cfg = options.imds;
    if (!cfg) return error(res, 404, 'NotFound', 'not found');
    if (req.headers['x-forwarded-for'] !== undefined) return send(res, 403, 'Forbidden', 'text/plain');
    if (url === IMDS_TOKEN_PATH) {
      if (req.method !== 'PUT') {
        res.setHeader('Allow', 'PUT');
        return send(res, 405, 'Method Not Allowed', 'text/plain');
      }
      const ttl = parseTokenTtl(req.headers[IMDS_TTL_HEADER]);
      if (ttl === undefined) return send(res, 400, 'Bad Request', 'text/plain');
      if ((cfg.hopLimit ?? 1) < 2 && isContainer(address)) {
        // As on EC2 with hop limit 1: the answer never reaches a container; the client times out.
        audit({ source: address, endpoint: 'imds', outcome: 'hop-limit' });
        setTimeout(() => req.socket.destroy(), 60_000).unref();
        return;
      }
      const issue = (subject: string | undefined): void => {
        const token = tokens.mint(ttl, clock.now(), subject);
        res.writeHead(200, {
          'Content-Type': 'text/plain',
          [IMDS_TTL_HEADER]: String(ttl),
          'Content-Length': Buffer.byteLength(token),
        });
        res.end(token);
      };
      if (options.resolveImdsClient && isContainer(address)) {
        // the token names the container it is issued to, asked of the engine now (not the table, which
        // may still hold a stopped container that had this address)
        // past its failure limit, an address gets a token naming no one (and so no role) without a lookup
        if (limited(address)) {
          issue(undefined);
          return;
        }
        options
          .resolveImdsClient(address, true)
          .then((c) => {
            // a container keyless did not start asking for a token: counted, so it cannot make the
            // server ask the engine without end
            if (!c) fail(address);
            issue(c?.idHash);
          })
          .catch((err: Error) =>
            error(res, 500, 'InternalError', `cannot look up the client: ${err.message}`),
          );
        return;
      }
      issue(undefined);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET');
      return send(res, 405, 'Method Not Allowed', 'text/plain');
    }
    const token = req.headers[IMDS_TOKEN_HEADER];
    let subject: string | undefined;
    if (typeof token === 'string') {
      subject = tokens.check(token, clock.now())?.subject;
      if (subject === undefined) return send(res, 401, 'Unauthorized', 'text/plain');
    } else if (!cfg.allowV1) {
      return send(res, 401, 'Unauthorized', 'text/plain');
    }
    const path = url.split('?')[0] ?? '';
    const now = ecsDate(new Date(clock.now()));
    const needsRole =
      path === '/latest/meta-data/iam/security-credentials' ||
      path.startsWith(IMDS_CREDS_PREFIX) ||
      path === '/latest/meta-data/iam/info';
    if (needsRole && options.resolveImdsClient && isContainer(address)) {
      // each container its own role, as each EC2 instance has its own
      // a container with no keyless client: no role, and a failure counted against its address
      const noRole = (): void => {
        audit({ source: address, endpoint: 'imds', outcome: 'unknown-client' });
        fail(address);
        send(res, 404, 'Not Found', 'text/plain');
      };
      // a token issued to no keyless container (or IMDSv1 past the failure limit): no lookup at all
      if (subject === '' || (subject === undefined && limited(address))) return noRole();
      const resolve = options.resolveImdsClient;
      resolve(address)
        .then(async (found) => {
          let c = found;
          // with a token, only the container it was issued to: the table may still name the container
          // that had this address before (its stop not yet seen), so ask the engine once more
          if (subject !== undefined && c?.idHash !== subject) c = await resolve(address, true);
          if (subject !== undefined && c?.idHash !== subject) c = undefined;
          if (!c) return noRole();
          imdsRole(res, path, now, address, {
            key: c.key,
            roleName: imdsRoleName(c.key),
            client: c.idHash.slice(0, 12),
            container: c.containerId,
          });
        })
        .catch((err: Error) => error(res, 500, 'InternalError', `cannot look up the client: ${err.message}`));
      return;
    }
    if (needsRole) return imdsRole(res, path, now, address, { key: cfg.key, roleName: cfg.roleName });
    switch (path) {
      case '/latest/meta-data/placement/region':
        return send(res, 200, cfg.region, 'text/plain');
      case '/latest/meta-data/placement/availability-zone':
        return send(res, 200, `${cfg.region}a`, 'text/plain');
      case '/latest/meta-data/instance-id':
        return send(res, 200, 'i-0keyless000000000', 'text/plain');
      case '/latest/dynamic/instance-identity/document':
        return send(
          res,
          200,
          JSON.stringify({
            region: cfg.region,
            availabilityZone: `${cfg.region}a`,
            accountId: accountOf(cfg.key),
            instanceId: 'i-0keyless000000000',
            instanceType: 'keyless',
            architecture: 'x86_64',
            imageId: 'ami-00000000',
            pendingTime: now,
            privateIp: '169.254.170.2',
            version: '2017-09-30',
          }),
        );
      default:
        return send(res, 404, 'Not Found', 'text/plain');
    }
  };

  /** The IMDS answers that depend on the caller's role: its name, the profile info, its credentials. */
  const imdsRole = (
    res: ServerResponse,
    path: string,
    now: string,
    address: string,
    who: { key: RoleKey; roleName: string; client?: string; container?: string | undefined },
  ): void => {
    if (path === '/latest/meta-data/iam/security-credentials' || path === IMDS_CREDS_PREFIX)
      // the bare role name, no trailing newline (botocore appends it to the next URL)
      return send(res, 200, who.roleName, 'text/plain');
    if (path === '/latest/meta-data/iam/info')
      return send(
        res,
        200,
        JSON.stringify({
          Code: 'Success',
          LastUpdated: now,
          InstanceProfileArn: `arn:aws:iam::${accountOf(who.key)}:instance-profile/${who.roleName}`,
          InstanceProfileId: 'AIPAKEYLESSKEYLESS00',
        }),
      );
    if (path === `${IMDS_CREDS_PREFIX}${who.roleName}`) {
      return serveLease(res, who.key, address, 'imds', who.client ?? 'imds', who.container, (c) => {
        let b = imdsBodies.get(c);
        if (b === undefined) {
          b = JSON.stringify({
            Code: 'Success',
            LastUpdated: now,
            Type: 'AWS-HMAC',
            AccessKeyId: c.accessKeyId,
            SecretAccessKey: c.secretAccessKey,
            Token: c.sessionToken ?? '',
            Expiration: c.expiration ? ecsDate(c.expiration) : undefined,
          });
          imdsBodies.set(c, b);
        }
        return b;
      });
    }
    return send(res, 404, 'Not Found', 'text/plain');
  };

  return (req, res, relayed) => {
    const url = req.url ?? '/';
    const address = relayed ?? plainAddress(req.socket.remoteAddress);
    if (url.startsWith('/latest/')) return imds(req, res, url, address);
    if (url.startsWith(ECS_RELATIVE_PREFIX) || url.startsWith(ECS_FULL_PATH))
      return ecs(req, res, url, address);
    return error(res, 404, 'NotFound', 'unknown path');
  };
}
