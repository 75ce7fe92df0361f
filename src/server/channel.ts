// The host side of the endpoint container's channel: a unix socket (mounted into the container) or a
// TCP listener on the address the engine's containers reach this machine at. Every connection must
// start with `KEYLESS1 <secret> <endpoint id> <caller address>\n` (the secret compared in constant
// time); the rest of the connection is HTTP, handed to the same handler as direct requests with the
// caller's address on the keyless network as the relay saw it. Anything else is refused.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import { chmod, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ensurePrivateDir } from '../util/atomic-file.js';
import { CHANNEL_MAGIC, PING } from '../endpoint/relay.js';
import { listenOn, type ListenAddress } from './index.js';
import { connectionLimiter } from './connection-limit.js';

export type AddressedHandler = (req: IncomingMessage, res: ServerResponse, address: string) => void;

export interface ChannelListen {
  socketPath?: string;
  tcp?: ListenAddress;
}

export interface RunningChannel {
  socketPath?: string;
  tcp?: ListenAddress;
  /** endpoint container id (its hostname) → time of its last ping or connection */
  seen: Map<string, number>;
  refused(): number;
  close(): Promise<void>;
}

const MAX_PREAMBLE = 256;
const PREAMBLE_TIMEOUT_MS = 5_000;
const REFUSED =
  'HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 24\r\nConnection: close\r\n\r\nkeyless channel: refused';

/** Reads the first line of a connection without consuming what follows it. */
function readPreamble(socket: Socket, done: (line: string | undefined) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  const finish = (line: string | undefined): void => {
    clearTimeout(timer);
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    done(line);
  };
  const onEnd = (): void => finish(undefined);
  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const nl = buf.indexOf(10);
      if (nl >= 0) {
        const rest = buf.subarray(nl + 1);
        if (rest.length) socket.unshift(rest);
        return finish(buf.subarray(0, nl).toString('latin1'));
      }
      if (buf.length > MAX_PREAMBLE) return finish(undefined);
    }
  };
  const timer = setTimeout(() => finish(undefined), PREAMBLE_TIMEOUT_MS);
  socket.on('readable', onReadable);
  socket.on('end', onEnd);
}

export async function startChannel(
  where: ChannelListen,
  secret: string,
  handler: AddressedHandler,
  now: () => number = Date.now,
): Promise<RunningChannel> {
  const digest = createHash('sha256').update(secret).digest();
  const seen = new Map<string, number>();
  const callers = new WeakMap<Socket, string>();
  const limiter = connectionLimiter();
  let refused = 0;
  const http = createHttpServer(
    { maxHeaderSize: 8192, requestTimeout: 70_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    (req, res) => handler(req, res, callers.get(req.socket as Socket) ?? ''),
  );
  const sockets = new Set<Socket>();
  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    readPreamble(socket, (line) => {
      const [magic, given, endpoint, caller] = (line ?? '').split(' ');
      const ok =
        magic === CHANNEL_MAGIC &&
        given !== undefined &&
        timingSafeEqual(createHash('sha256').update(given).digest(), digest) &&
        endpoint !== undefined &&
        endpoint.length <= 64 &&
        caller !== undefined &&
        (caller === PING || isIP(caller) !== 0);
      if (!ok) {
        refused++;
        socket.end(REFUSED);
        return;
      }
      seen.set(endpoint, now());
      if (caller === PING) {
        socket.end('ok\n');
        return;
      }
      // the cap applies to each caller on the keyless network, as to direct clients
      if (!limiter.admit(socket, caller)) return;
      callers.set(socket, caller);
      http.emit('connection', socket);
      socket.resume();
    });
  };
  const servers: Server[] = [];
  const out: RunningChannel = {
    seen,
    refused: () => refused,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      if (where.socketPath) await rm(where.socketPath, { force: true });
    },
  };
  try {
    if (where.socketPath) {
      await ensurePrivateDir(dirname(where.socketPath));
      await rm(where.socketPath, { force: true });
      const s = createNetServer(onConnection);
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
      const s = createNetServer(onConnection);
      out.tcp = await listenOn(s, where.tcp);
      servers.push(s);
    }
  } catch (err) {
    await out.close();
    throw err;
  }
  return out;
}
