// The control socket: HTTP over a unix socket (0600 in a 0700 folder) through which keyless run /
// compose register, bind and revoke clients. Nothing that registers clients listens on TCP.
import { createServer, request, type Server } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeylessError } from '../errors.js';
import { roleKey, type LeaseTable } from '../leases/lease-table.js';
import { ensurePrivateDir } from '../util/atomic-file.js';
import type { ControlClient, RegisterClientRequest, RegisteredClient } from './control-protocol.js';
import { ECS_RELATIVE_PREFIX } from './handler.js';
import type { StatusService } from './status-service.js';

export interface ControlExtras {
  /** POST /endpoint/ensure: make sure the endpoint container runs and reached the channel */
  ensureEndpoint?: () => Promise<unknown>;
  /** /status/*, /clients/revoke-tag, /leases/refresh, /server/stop: keyless status and keyless ui */
  status?: StatusService;
}

/** The live status stream: one JSON event per line. */
export const STATUS_EVENTS_PATH = '/status/events';

export async function startControlSocket(
  path: string,
  table: LeaseTable,
  status: () => { pid: number; listen: string[] } & Record<string, unknown>,
  extras: ControlExtras = {},
): Promise<Server> {
  await ensurePrivateDir(dirname(path));
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
      if (body.length > 64 * 1024) req.destroy();
    });
    req.on('end', () => {
      const reply = (status: number, value: unknown): void => {
        const text = JSON.stringify(value);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(text);
      };
      try {
        const input = body ? (JSON.parse(body) as Record<string, string | undefined>) : {};
        const url = req.url ?? '/';
        if (req.method === 'GET' && url === '/status')
          return reply(200, { ...status(), clients: table.size() });
        if (req.method === 'POST' && url === '/clients') {
          const r = input as RegisterClientRequest;
          if (!r.profile && !r.roleArn) return reply(400, { error: 'profile or roleArn required' });
          const { id } = table.register(roleKey(r), {
            ...(r.boundAddress ? { boundAddress: r.boundAddress } : {}),
            ...(r.containerId ? { containerId: r.containerId } : {}),
            ...(r.label ? { label: r.label } : {}),
          });
          return reply(201, { id, relativeUri: `${ECS_RELATIVE_PREFIX}${id}` } satisfies RegisteredClient);
        }
        if (req.method === 'POST' && url === '/clients/bind') {
          const ok = table.bind(input.id ?? '', input.address ?? '', input.containerId);
          return reply(ok ? 200 : 404, ok ? {} : { error: 'unknown client' });
        }
        if (req.method === 'POST' && url === '/endpoint/ensure') {
          if (!extras.ensureEndpoint)
            return reply(409, { error: 'this server runs in host mode (no endpoint container)' });
          extras.ensureEndpoint().then(
            (st) => reply(200, st),
            (err: Error & { code?: string }) => reply(502, { error: err.message, code: err.code }),
          );
          return;
        }
        if (req.method === 'POST' && url === '/leases/check') {
          // an explicit check: a failed profile is tried again at once (it may just have been fixed)
          table
            .lease(roleKey(input))
            .check()
            .then(
              (c) => reply(200, c.expiration ? { expiration: c.expiration.toISOString() } : {}),
              // the source's own message (names the profile and what to fix; never a secret)
              (err: Error & { code?: string }) =>
                reply(502, { error: err.message, code: err.code ?? 'LEASE_UNAVAILABLE' }),
            );
          return;
        }
        if (req.method === 'POST' && url === '/clients/revoke')
          return reply(200, { revoked: table.revoke(input.id ?? '') });
        if (extras.status) {
          const st = extras.status;
          if (req.method === 'GET' && url === '/status/snapshot') return reply(200, st.snapshot());
          if (req.method === 'GET' && url === STATUS_EVENTS_PATH) {
            res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' });
            const unsubscribe = st.subscribe((event) => {
              res.write(`${JSON.stringify(event)}\n`);
              if (event.type === 'stopping') res.end();
            });
            res.on('close', unsubscribe);
            return;
          }
          if (req.method === 'POST' && url === '/clients/revoke-tag') {
            const ok = st.revokeClient(input.tag ?? '');
            return reply(ok ? 200 : 404, ok ? { revoked: true } : { error: 'no such live client' });
          }
          if (req.method === 'POST' && url === '/leases/refresh') {
            st.refreshLease(input.id ?? '').then(
              (error) =>
                error === undefined
                  ? reply(404, { error: 'no such lease' })
                  : reply(200, { refreshed: error === '', ...(error ? { lastError: error } : {}) }),
              (err: Error) => reply(500, { error: err.message }),
            );
            return;
          }
          if (req.method === 'POST' && url === '/server/stop') {
            reply(202, { stopping: true });
            res.on('finish', () => st.stop());
            return;
          }
        }
        return reply(404, { error: 'unknown path' });
      } catch (err) {
        return reply(400, { error: (err as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return server;
}

/**
 * For status questions (`keyless status`, `serve --status`): "no server runs" is the command's
 * negative answer (exit 1), not a usage or configuration error (2).
 */
export function notRunningIsAnAnswer(err: unknown): unknown {
  return err instanceof KeylessError && err.code === 'SERVER_NOT_RUNNING'
    ? new KeylessError(err.code, err.message, { exitCode: 1 })
    : err;
}

/** One JSON request on the control socket; errors become KeylessError (SERVER_NOT_RUNNING, ...). */
export function controlCall<T>(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let value: T & { error?: string; code?: string };
          try {
            value = (text ? JSON.parse(text) : {}) as T & { error?: string; code?: string };
          } catch {
            return reject(
              new KeylessError('SERVER_CONTROL', `credential server answered ${path} with non-JSON`),
            );
          }
          // 502: the server could not do it (the endpoint, the engine, the credential source): its
          // own error, as if this command had met it
          const theirs =
            res.statusCode === 502 || Boolean(value.code && /^ENDPOINT_|^DOCKER_/.test(value.code));
          if ((res.statusCode ?? 500) >= 400)
            reject(
              new KeylessError(
                theirs && value.code ? value.code : 'SERVER_CONTROL',
                theirs
                  ? (value.error ?? `HTTP ${res.statusCode}`)
                  : `credential server refused ${path}: ${value.error ?? res.statusCode}`,
              ),
            );
          else resolve(value);
        });
      },
    );
    req.on('error', (err) =>
      reject(
        new KeylessError(
          'SERVER_NOT_RUNNING',
          `no keyless credential server answers on ${socketPath} (${(err as NodeJS.ErrnoException).code}). Start one with keyless serve --daemon.`,
          { cause: err },
        ),
      ),
    );
    if (timeoutMs !== undefined)
      req.setTimeout(timeoutMs, () => {
        req.destroy();
        reject(
          new KeylessError(
            'SERVER_CONTROL',
            `the credential server did not answer ${path} within ${timeoutMs / 1000} s`,
          ),
        );
      });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export function controlClient(socketPath: string): ControlClient {
  return {
    register: (r) => controlCall<RegisteredClient>(socketPath, 'POST', '/clients', r),
    bind: async (id, address, containerId) => {
      await controlCall(socketPath, 'POST', '/clients/bind', {
        id,
        address,
        ...(containerId ? { containerId } : {}),
      });
    },
    revoke: async (id) => {
      await controlCall(socketPath, 'POST', '/clients/revoke', { id });
    },
    status: () => controlCall(socketPath, 'GET', '/status'),
    ensureEndpoint: () => controlCall(socketPath, 'POST', '/endpoint/ensure'),
    checkLease: (key, timeoutMs) => controlCall(socketPath, 'POST', '/leases/check', key, timeoutMs),
    close: () => undefined,
  };
}
