// Client side of live status over the control socket: a snapshot, the live event stream, and the
// actions. Used by keyless status and keyless ui (which never see a credential: the socket sends none).
import { request } from 'node:http';
import { KeylessError } from '../errors.js';
import { onLines } from '../util/lines.js';
import { controlCall, STATUS_EVENTS_PATH } from './control-socket.js';
import type { StatusEvent, StatusSnapshot } from './status-types.js';

export interface StatusSubscription {
  /** resolves when the stream ends (the server stopped, or close() was called) */
  readonly ended: Promise<void>;
  close(): void;
}

export interface StatusClient {
  snapshot(): Promise<StatusSnapshot>;
  subscribe(onEvent: (event: StatusEvent) => void): Promise<StatusSubscription>;
  revokeClient(tag: string): Promise<void>;
  refreshLease(id: string): Promise<{ refreshed: boolean; lastError?: string }>;
  stopServer(): Promise<void>;
}

function notRunning(socketPath: string, err: Error): KeylessError {
  return new KeylessError(
    'SERVER_NOT_RUNNING',
    `no keyless credential server answers on ${socketPath} (${(err as NodeJS.ErrnoException).code ?? err.message}). Start one with keyless serve --daemon (keyless run starts one).`,
    // a status question answered "not running" is the command's negative answer, not a usage error
    { cause: err, exitCode: 1 },
  );
}

/** Opens the NDJSON event stream; resolves once the server accepted it. */
function subscribe(socketPath: string, onEvent: (e: StatusEvent) => void): Promise<StatusSubscription> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'GET', path: STATUS_EVENTS_PATH }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(
          new KeylessError(
            'SERVER_CONTROL',
            `the credential server has no live status (HTTP ${res.statusCode}); it predates keyless status. Restart it: keyless serve --stop.`,
          ),
        );
      }
      onLines(res, (line) => onEvent(JSON.parse(line) as StatusEvent));
      const ended = new Promise<void>((done) => {
        res.on('close', () => done());
        res.on('error', () => done());
      });
      resolve({ ended, close: () => req.destroy() });
    });
    req.on('error', (err) => reject(notRunning(socketPath, err)));
    req.end();
  });
}

export function statusClient(socketPath: string): StatusClient {
  return {
    snapshot: () => controlCall<StatusSnapshot>(socketPath, 'GET', '/status/snapshot'),
    subscribe: (onEvent) => subscribe(socketPath, onEvent),
    revokeClient: async (tag) => {
      await controlCall(socketPath, 'POST', '/clients/revoke-tag', { tag });
    },
    refreshLease: (id) =>
      controlCall<{ refreshed: boolean; lastError?: string }>(socketPath, 'POST', '/leases/refresh', { id }),
    stopServer: async () => {
      await controlCall(socketPath, 'POST', '/server/stop');
    },
  };
}
