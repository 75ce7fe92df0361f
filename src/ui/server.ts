// keyless ui's HTTP server on 127.0.0.1: the page, its script and style, the live event stream
// (server-sent events) and the actions. Every request passes the Host check; everything but the
// one-time login needs the session cookie; every action also needs the CSRF token and the page's origin.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../server/index.js';
import type { StatusClient } from '../server/status-client.js';
import type { StatusEvent, SwarmAgentStatus } from '../server/status-types.js';
import { AgentPoller } from './agent-poller.js';
import { CSRF_HEADER, LOGIN_PATH, sessionCookie, UiAuth, type UiSession } from './auth.js';
import { hostAllowed, sameOrigin, SECURITY_HEADERS } from './http-guard.js';
import { renderPageHtml } from './page/html.js';
import { PAGE_CSS } from './page/styles.js';
import { StatusRelay } from './status-relay.js';

export interface UiServerOptions {
  status: StatusClient;
  /** the Swarm agent's status, when one may run (read every 2 s while a page is open) */
  agentStatus?: () => Promise<SwarmAgentStatus | undefined>;
  /** default 0: a free port */
  port?: number;
  /** SSE comment to keep idle connections open (default 15 s) */
  keepAliveMs?: number;
  log?: (line: string) => void;
}

export interface UiServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** the origin plus the one-time login token: print it, open it once */
  loginUrl: string;
  /** resolves when the credential server stopped while a page watched it */
  serverGone: Promise<void>;
  /** how many pages follow the live stream */
  pages(): number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const TAG = /^[0-9a-f]{12}$/;

export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
  // the page's script, compiled by tsc beside this file (no other build step)
  const appJs = await readFile(new URL('./page/app.js', import.meta.url), 'utf8');
  const auth = new UiAuth();
  let gone: () => void = () => undefined;
  const serverGone = new Promise<void>((r) => (gone = r));
  const relay = new StatusRelay(options.status, () => gone());
  const agents = options.agentStatus ? new AgentPoller(options.agentStatus) : undefined;
  const streams = new Set<ServerResponse>();
  let origin = '';
  let hostHeader = '';

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    type = 'text/plain; charset=utf-8',
    extra: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      ...SECURITY_HEADERS,
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      ...extra,
    });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, value: unknown): void =>
    send(res, status, JSON.stringify(value), 'application/json');

  const events = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      Connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    const write = (event: StatusEvent): void => {
      const data = event.type === 'snapshot' ? event.snapshot : event.type === 'audit' ? event.records : {};
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    streams.add(res);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
    const removers: (() => void)[] = [];
    res.on('close', () => {
      clearInterval(keepAlive);
      streams.delete(res);
      for (const r of removers) r();
    });
    let serverError: Error | undefined;
    try {
      removers.push(await relay.add(write));
    } catch (err) {
      serverError = err as Error;
    }
    if (agents)
      removers.push(
        await agents.add((agent) => res.write(`event: swarm\ndata: ${JSON.stringify(agent)}\n\n`)),
      );
    if (serverError) {
      res.write(`event: noserver\ndata: ${JSON.stringify({ message: serverError.message })}\n\n`);
      // without an agent to show either, there is nothing to follow: the browser retries later
      if (!agents) res.end();
    }
    if (res.destroyed) for (const r of removers) r();
  };

  const act = async (res: ServerResponse, path: string): Promise<void> => {
    const parts = path.split('/'); // ['', 'api', kind, id, verb]
    try {
      if (parts[2] === 'clients' && parts[4] === 'revoke' && TAG.test(parts[3] ?? '')) {
        await options.status.revokeClient(parts[3] as string);
        return json(res, 200, { revoked: parts[3] });
      }
      if (parts[2] === 'leases' && parts[4] === 'refresh' && TAG.test(parts[3] ?? ''))
        return json(res, 200, await options.status.refreshLease(parts[3] as string));
      if (path === '/api/server/stop') {
        await options.status.stopServer();
        return json(res, 202, { stopping: true });
      }
      return json(res, 404, { error: 'unknown action' });
    } catch (err) {
      return json(res, 409, { error: (err as Error).message });
    }
  };

  const route = (req: IncomingMessage, res: ServerResponse, url: URL, session: UiSession): void => {
    const path = url.pathname;
    if (req.method === 'POST' && path.startsWith('/api/')) {
      if (!sameOrigin(req.headers.origin, req.headers['sec-fetch-site'] as string | undefined, origin))
        return json(res, 403, { error: 'cross-origin request refused' });
      if (!auth.csrfValid(session, req.headers[CSRF_HEADER]))
        return json(res, 403, { error: 'missing or wrong CSRF token' });
      req.resume();
      void act(res, path);
      return;
    }
    if (req.method !== 'GET') return send(res, 405, 'Method Not Allowed', undefined, { Allow: 'GET, POST' });
    if (path === '/') return send(res, 200, renderPageHtml(session.csrf), 'text/html; charset=utf-8');
    if (path === '/app.js') return send(res, 200, appJs, 'text/javascript; charset=utf-8');
    if (path === '/app.css') return send(res, 200, PAGE_CSS, 'text/css; charset=utf-8');
    if (path === '/api/status') {
      void options.status.snapshot().then(
        (s) => json(res, 200, s),
        (err: Error) => json(res, 502, { error: err.message }),
      );
      return;
    }
    if (path === '/api/events') return void events(req, res);
    return send(res, 404, 'Not Found');
  };

  const server = createServer({ maxHeaderSize: 8192, requestTimeout: 0 }, (req, res) => {
    if (!hostAllowed(req.headers.host, hostHeader)) return send(res, 403, 'Forbidden: wrong Host header');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', origin);
    } catch {
      return send(res, 400, 'Bad Request');
    }
    if (url.pathname === LOGIN_PATH && req.method === 'GET') {
      const login = auth.login(url.searchParams.get('token') ?? '');
      if (!login)
        return send(res, 403, 'This login link was already used or is wrong. Run keyless ui again.');
      options.log?.('keyless ui: logged in (the login link no longer works)');
      return send(res, 303, 'See Other', undefined, {
        Location: '/',
        'Set-Cookie': sessionCookie(login.sessionId),
      });
    }
    const session = auth.session(req.headers.cookie);
    if (!session)
      return send(
        res,
        401,
        'Not logged in: open the address that keyless ui printed (it works once), or run keyless ui again.',
      );
    route(req, res, url, session);
  });
  const { port } = await listenOn(
    server,
    { host: HOST, port: options.port ?? 0 },
    'Choose another --port, or leave it out for a free one.',
  );
  hostHeader = `${HOST}:${port}`;
  origin = `http://${hostHeader}`;
  return {
    origin,
    loginUrl: `${origin}${LOGIN_PATH}?token=${auth.pendingLoginToken ?? ''}`,
    serverGone,
    pages: () => relay.pages,
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
