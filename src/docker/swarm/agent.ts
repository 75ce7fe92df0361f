// `keyless swarm agent`: the ECS container-credentials endpoint for Swarm tasks on this node. The task
// behind each request is found from its source address through the local engine; the role comes from
// its service's keyless.profile / keyless.role-arn label; the URI must be the one issued to that
// service (its sha256 is a service label). One cached, refreshed lease per role.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { KeylessError } from '../../errors.js';
import type { Credentials, CredentialSource } from '../../sources/types.js';
import type { SwarmTaskStatus } from '../../server/status-types.js';
import { timingSafeEqualString } from '../../util/timing-safe.js';
import { redactAccessKeyId } from '../../util/redact.js';
import type { DockerClient } from '../engine/client.js';
import { AGENT_CREDENTIALS_PATH, AgentLabel, uriIdHash } from './agent-plan.js';
import { TaskIdentityResolver } from './task-identity.js';

export interface RoleKey {
  profile?: string;
  roleArn?: string;
}

export interface SwarmAgentOptions {
  client: DockerClient;
  /** where to listen; default 169.254.170.2:80 */
  listen?: { host: string; port: number };
  sessionDurationSeconds?: number;
  refreshBeforeSeconds?: number;
  /** a source for a role key, minting sessions of the given duration */
  sourceFor: (key: RoleKey, durationSeconds: number) => CredentialSource;
  log?: (line: string) => void;
  now?: () => number;
}

export interface SwarmAgent {
  address: string;
  close(): Promise<void>;
  /** access key ids served so far per task id (redacted), for diagnostics and tests */
  served(): Map<string, string[]>;
  /** the tasks that asked, for keyless status (never a secret) */
  tasks(): SwarmTaskStatus[];
}

/** tasks remembered for status (the least recently seen are forgotten first) */
const TASKS_KEPT = 2000;

export const DEFAULT_SESSION_SECONDS = 3600;
export const DEFAULT_REFRESH_BEFORE_SECONDS = 1800;

/** refresh-before is never more than half the duration, so a session is used for at least half its life. */
export function effectiveRefreshBefore(durationSeconds: number, refreshBeforeSeconds: number): number {
  return Math.min(refreshBeforeSeconds, Math.floor(durationSeconds / 2));
}

/** ECS's date format: YYYY-MM-DDTHH:MM:SSZ (no milliseconds). */
function ecsDate(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

interface Entry {
  current?: Credentials;
  inflight?: Promise<Credentials>;
}

export async function startSwarmAgent(options: SwarmAgentOptions): Promise<SwarmAgent> {
  const listen = options.listen ?? { host: '169.254.170.2', port: 80 };
  const duration = options.sessionDurationSeconds ?? DEFAULT_SESSION_SECONDS;
  const refreshBeforeMs =
    effectiveRefreshBefore(duration, options.refreshBeforeSeconds ?? DEFAULT_REFRESH_BEFORE_SECONDS) * 1000;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  const resolver = new TaskIdentityResolver(options.client, now);
  const entries = new Map<string, Entry>();
  const sources = new Map<string, CredentialSource>();
  const served = new Map<string, string[]>();
  const tasks = new Map<string, SwarmTaskStatus>();
  const seen = (
    who: { taskId: string; serviceName: string },
    address: string,
    role: string,
    c: Credentials | undefined,
  ): void => {
    const at = new Date(now()).toISOString();
    let t = tasks.get(who.taskId);
    if (t) tasks.delete(who.taskId);
    else
      t = {
        task: who.taskId,
        service: who.serviceName,
        address,
        role,
        firstRequestAt: at,
        lastRequestAt: at,
        requests: 0,
        refused: 0,
      };
    t.lastRequestAt = at;
    t.address = address;
    if (c) {
      t.requests++;
      t.role = c.roleArn ?? role;
      t.accessKeyId = redactAccessKeyId(c.accessKeyId);
      if (c.expiration) t.expiresAt = c.expiration.toISOString();
    } else t.refused++;
    tasks.set(who.taskId, t);
    if (tasks.size > TASKS_KEPT) tasks.delete(tasks.keys().next().value as string);
  };

  const credentialsFor = async (key: RoleKey): Promise<Credentials> => {
    const k = JSON.stringify([key.profile ?? '', key.roleArn ?? '']);
    let entry = entries.get(k);
    if (!entry) entries.set(k, (entry = {}));
    const cur = entry.current;
    const fresh = cur?.expiration !== undefined && cur.expiration.getTime() - now() > refreshBeforeMs;
    if (cur && fresh) return cur;
    if (!entry.inflight) {
      let source = sources.get(k);
      if (!source) sources.set(k, (source = options.sourceFor(key, duration)));
      const e = entry;
      e.inflight = source()
        .then((c) => {
          e.current = c;
          log(
            `agent: new session for ${key.roleArn ?? key.profile} (${redactAccessKeyId(c.accessKeyId)}, expires ${c.expiration?.toISOString() ?? '?'})`,
          );
          return c;
        })
        .finally(() => (e.inflight = undefined));
    }
    const pending = entry.inflight as Promise<Credentials>;
    try {
      return await pending;
    } catch (err) {
      // STS down: keep serving what is still valid.
      if (cur?.expiration && cur.expiration.getTime() > now()) {
        log(`agent: refresh failed, serving the still-valid session: ${(err as Error).message}`);
        return cur;
      }
      throw err;
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const deny = (res: ServerResponse, message: string): void =>
    send(res, 403, { Code: 'AccessDenied', Message: message });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    if (!url.startsWith(AGENT_CREDENTIALS_PATH))
      return send(res, 404, { Code: 'NotFound', Message: 'unknown path' });
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      return send(res, 405, { Code: 'MethodNotAllowed', Message: 'only GET' });
    }
    const id = url.slice(AGENT_CREDENTIALS_PATH.length).split('?')[0] ?? '';
    const address = req.socket.remoteAddress ?? '';
    const who = await resolver.resolve(address);
    if (!who) {
      log(`agent: refused ${address}: not a running task on this node`);
      return deny(res, 'this address is not a running task of a Swarm service attached to keyless');
    }
    const labels = who.serviceLabels;
    const profile = labels[AgentLabel.PROFILE];
    const roleArn = labels[AgentLabel.ROLE_ARN];
    const expected = labels[AgentLabel.URI_SHA256];
    if ((!profile && !roleArn) || !expected) {
      seen(who, address, '-', undefined);
      log(`agent: refused task ${who.taskId} of ${who.serviceName}: service not attached`);
      return deny(
        res,
        `service ${who.serviceName} is not attached to keyless (keyless swarm attach ${who.serviceName} --profile P)`,
      );
    }
    if (!timingSafeEqualString(uriIdHash(id), expected)) {
      seen(who, address, roleArn ?? profile ?? '-', undefined);
      log(`agent: refused task ${who.taskId} of ${who.serviceName}: URI not issued to this service`);
      return deny(res, `this credentials URI was not issued to service ${who.serviceName}`);
    }
    try {
      const c = await credentialsFor({ ...(profile ? { profile } : {}), ...(roleArn ? { roleArn } : {}) });
      const list = served.get(who.taskId) ?? [];
      const shown = redactAccessKeyId(c.accessKeyId);
      if (list[list.length - 1] !== shown) list.push(shown);
      served.set(who.taskId, list);
      seen(who, address, roleArn ?? profile ?? '-', c);
      log(
        JSON.stringify({
          time: new Date(now()).toISOString(),
          task: who.taskId,
          service: who.serviceName,
          source: address,
          role: roleArn ?? profile,
          key: shown,
          outcome: 'ok',
        }),
      );
      send(res, 200, {
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        Token: c.sessionToken ?? '',
        Expiration: c.expiration ? ecsDate(c.expiration) : undefined,
        RoleArn: c.roleArn ?? roleArn ?? '',
      });
    } catch (err) {
      const message =
        err instanceof KeylessError ? err.message : `could not get credentials: ${(err as Error).message}`;
      log(`agent: credentials for ${who.serviceName} failed: ${message}`);
      send(res, 500, { Code: 'CredentialsUnavailable', Message: message });
    }
  };

  const server: Server = createServer(
    { requestTimeout: 30_000, headersTimeout: 10_000, maxHeaderSize: 8192 },
    (req, res) => {
      handle(req, res).catch((err: unknown) =>
        send(res, 500, { Code: 'InternalError', Message: String((err as Error).message) }),
      );
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${listen.host}:${listen.port}`;
      if (err.code === 'EADDRINUSE') {
        reject(
          new KeylessError(
            'SWARM_ADDRESS_IN_USE',
            `${where} is already served on this node (keyless run's server?). One server per node: stop it with \`keyless serve --stop\`, or run the agent only on swarm nodes.`,
          ),
        );
      } else if (err.code === 'EACCES' || err.code === 'EADDRNOTAVAIL') {
        reject(
          new KeylessError(
            'SWARM_ADDRESS',
            `cannot listen on ${where} (${err.code}): the agent needs root (port 80) and the address on this node.`,
          ),
        );
      } else reject(err);
    });
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    // the port it got (--listen HOST:0 asks for any free one)
    address: `${listen.host}:${(server.address() as { port?: number } | null)?.port ?? listen.port}`,
    served: () => served,
    tasks: () => [...tasks.values()].map((t) => ({ ...t })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
