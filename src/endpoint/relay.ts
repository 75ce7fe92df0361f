// The endpoint container's program: listens on the keyless network at 169.254.170.2:80 and relays every
// connection to the keyless server on the host over the channel (a mounted unix socket or TCP). Each
// channel connection starts with one line, `KEYLESS1 <secret> <endpoint id> <caller address>\n`; after
// it the bytes are piped both ways untouched, so the relay parses no HTTP and adds little. It holds
// no key, no vault and no passphrase: the host decides. Its settings, with the channel secret, come
// from a file (never env, command line or labels).
//
// This file is copied alone into the endpoint image: it may import only Node's built-in modules.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const CHANNEL_MAGIC = 'KEYLESS1';
/** the caller-address field of a ping connection */
export const PING = 'ping';

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

/** The preamble line of a channel connection. */
export function preamble(secret: string, endpoint: string, caller: string): string {
  return `${CHANNEL_MAGIC} ${secret} ${endpoint} ${caller}\n`;
}

function badGateway(message: string): string {
  const body = JSON.stringify({ Code: 'CredentialsUnavailable', Message: message });
  return `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export function startRelay(
  settings: RelaySettings,
  log: (line: string) => void = console.error,
): { server: Server; close(): void } {
  const id = hostname();
  const target =
    'socketPath' in settings.channel
      ? { path: settings.channel.socketPath }
      : { host: settings.channel.host, port: settings.channel.port };
  let healthy: boolean | undefined;
  const setHealth = (ok: boolean, why: string): void => {
    if (ok !== healthy) log(ok ? `channel to the host up (${describe(settings)})` : `channel down: ${why}`);
    healthy = ok;
  };
  const open = (caller: string): Socket => {
    const up = connect(target);
    up.setNoDelay(true);
    up.write(preamble(settings.secret, id, caller));
    return up;
  };

  const server = createServer((client) => {
    client.setNoDelay(true);
    const caller = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    const up = open(caller);
    let answered = false;
    up.once('data', () => {
      answered = true;
      setHealth(true, '');
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      setHealth(false, err.code ?? err.message);
      if (!answered && !client.writableEnded)
        client.end(
          badGateway(
            `the keyless server on the host is not reachable (${err.code ?? err.message}); run keyless serve --status on the host`,
          ),
        );
      else client.destroy();
    });
    up.on('end', () => {
      if (answered) client.end();
      else client.end(badGateway('the keyless server on the host closed the channel'));
    });
    client.on('error', () => up.destroy());
    client.on('close', () => up.destroy());
    client.pipe(up);
    up.pipe(client, { end: false });
  });
  server.on('error', (err) => log(`listen: ${err.message}`));

  const ping = (): void => {
    const up = open(PING);
    up.setTimeout(5_000, () => up.destroy(new Error('timeout')));
    let reply = '';
    up.setEncoding('utf8');
    up.on('data', (d: string) => (reply += d));
    up.on('end', () => setHealth(reply.startsWith('ok'), 'the host refused the channel secret'));
    up.on('error', (err: NodeJS.ErrnoException) => setHealth(false, err.code ?? err.message));
  };

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
