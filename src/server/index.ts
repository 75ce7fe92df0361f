// startServer: the credential endpoints on one or more addresses, with request limits, plus optional
// control socket. Readable errors for a taken address or one that needs privileges.
import { createServer, type Server } from 'node:http';
import { KeylessError } from '../errors.js';
import { createHandler, type HandlerOptions } from './handler.js';
import { connectionLimiter } from './connection-limit.js';
import type { Server as NetServer, Socket } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RunningServer {
  addresses: ListenAddress[];
  close(): Promise<void>;
}

export function parseListen(value: string): ListenAddress {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port > 65535)
    throw new KeylessError('USAGE', `--listen must be HOST:PORT (e.g. 127.0.0.1:9911), got "${value}".`);
  return { host: m[1] as string, port };
}

/**
 * Listens on a TCP address (an HTTP server or a plain net one) with readable errors; `inUse` is what
 * to do when the address is taken (default: the serve options).
 */
export function listenOn(
  server: NetServer,
  addr: ListenAddress,
  inUse = 'Stop what listens there (keyless serve --stop?) or choose another --listen.',
): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const where = `${addr.host}:${addr.port}`;
      if (err.code === 'EADDRINUSE')
        reject(new KeylessError('SERVER_ADDRESS_IN_USE', `${where} is already in use. ${inUse}`));
      else if (err.code === 'EACCES')
        reject(
          new KeylessError(
            'SERVER_ADDRESS_DENIED',
            `listening on ${where} needs privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE).`,
          ),
        );
      else if (err.code === 'EADDRNOTAVAIL')
        reject(
          new KeylessError(
            'SERVER_ADDRESS_NOT_LOCAL',
            `${where} is not an address of this machine. For 169.254.170.2, create the keyless network first (keyless run does).`,
          ),
        );
      else reject(err);
    };
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      const a = server.address();
      resolve({ host: addr.host, port: typeof a === 'object' && a ? a.port : addr.port });
    });
  });
}

export async function startServer(
  addressesToListen: ListenAddress[],
  options: HandlerOptions,
  limits: { perAddress?: number; total?: number } = {},
): Promise<RunningServer> {
  const handler = createHandler(options);
  const limiter = connectionLimiter(limits.perAddress, limits.total);
  const servers: Server[] = [];
  const addresses: ListenAddress[] = [];
  try {
    for (const addr of addressesToListen) {
      const server = createServer(
        { maxHeaderSize: 8192, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
        (req, res) => handler(req, res),
      );
      server.on('connection', (socket: Socket) =>
        limiter.admit(socket, (socket.remoteAddress ?? '').replace(/^::ffff:/, '')),
      );
      addresses.push(await listenOn(server, addr));
      servers.push(server);
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    addresses,
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
    },
  };
}
