// The endpoint container's program: listens on the keyless network at 169.254.170.2:80 and relays every
// request, with the caller's address, to the keyless server on the host over the channel (a mounted
// unix socket or TCP). It holds no key, no vault and no passphrase: the host decides. Its settings,
// with the channel secret, come from a file (never env, command line or labels).
//
// This file is copied alone into the endpoint image: it may import only Node's built-in modules.
import { createServer, request, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Headers the relay carries to the host (and the only ones). */
export const RELAY_SOURCE_HEADER = 'x-keyless-source';
export const RELAY_SECRET_HEADER = 'x-keyless-channel';
export const RELAY_ENDPOINT_HEADER = 'x-keyless-endpoint';
export const RELAY_PING_PATH = '/_keyless/ping';
const FORWARDED = [
  'authorization',
  'x-aws-ec2-metadata-token',
  'x-aws-ec2-metadata-token-ttl-seconds',
  'x-forwarded-for',
  'user-agent',
];

export interface RelaySettings {
  channel: { socketPath: string } | { host: string; port: number };
  secret: string;
  listen?: { host: string; port: number };
  /** ms between pings to the host (how a restarted server learns the endpoint is there) */
  pingIntervalMs?: number;
}

function describe(s: RelaySettings): string {
  return 'socketPath' in s.channel ? `unix:${s.channel.socketPath}` : `${s.channel.host}:${s.channel.port}`;
}

export function startRelay(settings: RelaySettings, log: (line: string) => void = console.error) {
  const agent = new Agent({ keepAlive: true, maxSockets: 128, maxFreeSockets: 32 });
  const id = hostname();
  const target =
    'socketPath' in settings.channel
      ? { socketPath: settings.channel.socketPath }
      : { host: settings.channel.host, port: settings.channel.port };
  let healthy: boolean | undefined;
  const setHealth = (ok: boolean, why: string): void => {
    if (ok !== healthy) log(ok ? `channel to the host up (${describe(settings)})` : `channel down: ${why}`);
    healthy = ok;
  };

  const fail = (res: ServerResponse, status: number, message: string): void => {
    if (res.headersSent) return void res.destroy();
    const body = JSON.stringify({ Code: 'CredentialsUnavailable', Message: message });
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };

  const relay = (req: IncomingMessage, res: ServerResponse): void => {
    const headers: Record<string, string> = {
      [RELAY_SOURCE_HEADER]: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      [RELAY_SECRET_HEADER]: settings.secret,
      [RELAY_ENDPOINT_HEADER]: id,
    };
    for (const h of FORWARDED) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (req.headers['transfer-encoding'] !== undefined || length > 4096)
      return fail(res, 413, 'request body too large');
    if (length > 0) headers['content-length'] = String(length);
    const up = request(
      { ...target, agent, method: req.method, path: req.url ?? '/', headers, timeout: 65_000 },
      (upRes) => {
        setHealth(true, '');
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(upRes.headers))
          if (typeof v === 'string' && k !== 'connection' && k !== 'keep-alive') out[k] = v;
        res.writeHead(upRes.statusCode ?? 502, out);
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('timeout', () => up.destroy(new Error('the host server did not answer')));
    up.on('error', (err: NodeJS.ErrnoException) => {
      setHealth(false, err.code ?? err.message);
      fail(
        res,
        502,
        `the keyless server on the host is not reachable (${err.code ?? err.message}); run keyless serve --status on the host`,
      );
    });
    // the caller went away: stop waiting on the host (e.g. an IMDS token request held for the hop limit)
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const ping = (): void => {
    const req = request(
      {
        ...target,
        agent,
        method: 'GET',
        path: RELAY_PING_PATH,
        headers: { [RELAY_SECRET_HEADER]: settings.secret, [RELAY_ENDPOINT_HEADER]: id },
        timeout: 5_000,
      },
      (res) => {
        res.resume();
        setHealth(res.statusCode === 204, `the host refused the channel secret (HTTP ${res.statusCode})`);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => setHealth(false, err.code ?? err.message));
    req.end();
  };

  const server = createServer(
    { maxHeaderSize: 8192, requestTimeout: 70_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
    relay,
  );
  const listen = settings.listen ?? { host: '0.0.0.0', port: 80 };
  server.listen(listen.port, listen.host, () => {
    log(
      `keyless endpoint ${id}: listening on ${listen.host}:${listen.port}, relaying to ${describe(settings)}`,
    );
    ping();
  });
  const timer = setInterval(ping, settings.pingIntervalMs ?? 2_000);
  timer.unref();
  return {
    server,
    close: (): void => {
      clearInterval(timer);
      server.close();
      agent.destroy();
    },
  };
}

/** Entry point inside the container: `node relay.mjs /keyless/channel.json`. */
export function relayMain(argv: string[]): void {
  const file = argv[2] ?? '/keyless/channel.json';
  let settings: RelaySettings;
  try {
    settings = JSON.parse(readFileSync(file, 'utf8')) as RelaySettings;
  } catch (err) {
    console.error(`keyless endpoint: cannot read its settings ${file}: ${(err as Error).message}`);
    process.exit(2);
  }
  const { close } = startRelay(settings);
  process.on('SIGTERM', () => {
    close();
    process.exit(0);
  });
}

if (process.argv[1]?.endsWith('relay.mjs')) relayMain(process.argv);
