// The host side of the endpoint container's channel: a unix socket (mounted into the container) or a
// TCP listener on the address the engine's containers reach this machine at. Every request must carry
// the channel secret (compared in constant time); it then goes to the same handler as direct requests,
// with the caller's address on the keyless network as the relay saw it. Anything else is refused.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ensurePrivateDir } from '../util/atomic-file.js';
import {
  RELAY_ENDPOINT_HEADER,
  RELAY_PING_PATH,
  RELAY_SECRET_HEADER,
  RELAY_SOURCE_HEADER,
} from '../endpoint/relay.js';
import type { ListenAddress } from './index.js';
import { listenOn } from './index.js';

export type AddressedHandler = (req: IncomingMessage, res: ServerResponse, address: string) => void;

export interface ChannelListen {
  socketPath?: string;
  tcp?: ListenAddress;
}

export interface RunningChannel {
  socketPath?: string;
  tcp?: ListenAddress;
  /** endpoint container id (its hostname) → time of its last ping or request */
  seen: Map<string, number>;
  refused(): number;
  close(): Promise<void>;
}

export async function startChannel(
  where: ChannelListen,
  secret: string,
  handler: AddressedHandler,
  now: () => number = Date.now,
): Promise<RunningChannel> {
  const digest = createHash('sha256').update(secret).digest();
  const seen = new Map<string, number>();
  let refused = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const given = req.headers[RELAY_SECRET_HEADER];
    if (typeof given !== 'string' || !timingSafeEqual(createHash('sha256').update(given).digest(), digest)) {
      refused++;
      res.writeHead(401, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('keyless channel: refused');
      return;
    }
    const endpoint = req.headers[RELAY_ENDPOINT_HEADER];
    if (typeof endpoint === 'string' && endpoint.length <= 64) seen.set(endpoint, now());
    if (req.url === RELAY_PING_PATH) {
      res.writeHead(204);
      res.end();
      return;
    }
    const source = req.headers[RELAY_SOURCE_HEADER];
    if (typeof source !== 'string' || isIP(source) === 0) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('keyless channel: no caller address');
      return;
    }
    handler(req, res, source);
  };
  const servers: Server[] = [];
  const opts = {
    maxHeaderSize: 8192,
    requestTimeout: 70_000,
    headersTimeout: 10_000,
    keepAliveTimeout: 30_000,
  };
  const out: RunningChannel = {
    seen,
    refused: () => refused,
    close: async () => {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
      if (where.socketPath) await rm(where.socketPath, { force: true });
    },
  };
  try {
    if (where.socketPath) {
      await ensurePrivateDir(dirname(where.socketPath));
      await rm(where.socketPath, { force: true });
      const s = createServer(opts, onRequest);
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(where.socketPath, () => {
          s.off('error', reject);
          resolve();
        });
      });
      servers.push(s);
      // only the owner connects: the endpoint container runs as the same user (or as root)
      await chmod(where.socketPath, 0o600);
      out.socketPath = where.socketPath;
    }
    if (where.tcp) {
      const s = createServer(opts, onRequest);
      out.tcp = await listenOn(s, where.tcp);
      servers.push(s);
    }
  } catch (err) {
    await out.close();
    throw err;
  }
  return out;
}
