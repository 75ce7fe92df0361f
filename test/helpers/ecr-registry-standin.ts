// Stand-ins for what cannot run here: ECR's registry front door. moto's ECR issues one fixed token
// (base64 "AWS:<account>-auth-token", expired in 2015) and serves no registry, so:
// - startEcrIssuer: a pass-through in front of moto that, for GetAuthorizationToken only, replaces the
//   token with a fresh random one valid for ttlSeconds (a test knob standing in for ECR's 12 hours) and
//   records when it was issued; every other request and moto's signature check are untouched;
// - startAuthProxy: a registry front on 127.0.0.1 that lets a request through to a real
//   docker-registry only with Basic auth AWS:<token> for a token the issuer gave out less than
//   maxAgeSeconds ago and not expired, as ECR refuses an expired token; it records what it refused.
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface IssuedToken {
  password: string;
  issuedAt: number;
  expiresAt: number;
}

export interface EcrIssuer {
  url: string;
  issued: IssuedToken[];
}

async function listen(
  t: Pick<TestContext, 'after'>,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<number> {
  const server = createServer(handler);
  server.on('clientError', (_err, socket) => socket.destroy()); // e.g. the engine trying TLS first
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(
    () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return (server.address() as { port: number }).port;
}

function forward(
  target: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | undefined,
  rewrite?: (b: Buffer) => Buffer,
): void {
  const up = request(
    {
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    },
    (r) => {
      if (!rewrite) {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
        return;
      }
      const parts: Buffer[] = [];
      r.on('data', (d: Buffer) => parts.push(d));
      r.on('end', () => {
        const out = rewrite(Buffer.concat(parts));
        const headers = { ...r.headers, 'content-length': String(out.length) };
        delete headers['transfer-encoding'];
        res.writeHead(r.statusCode ?? 502, headers);
        res.end(out);
      });
    },
  );
  up.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  if (body) up.end(body);
  else req.pipe(up);
}

export async function startEcrIssuer(
  t: Pick<TestContext, 'after'>,
  motoUrl: string,
  ttlSeconds: number,
): Promise<EcrIssuer> {
  const target = new URL(motoUrl);
  const issued: IssuedToken[] = [];
  const port = await listen(t, (req, res) => {
    const isToken = String(req.headers['x-amz-target'] ?? '').endsWith('.GetAuthorizationToken');
    if (!isToken) return forward(target, req, res, undefined);
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () =>
      forward(target, req, res, Buffer.concat(parts), (b) => {
        let doc: { authorizationData?: { authorizationToken: string; expiresAt: number }[] };
        try {
          doc = JSON.parse(b.toString()) as typeof doc;
        } catch {
          return b; // not JSON (the counting proxy's 502 when moto is slow to accept): as it came
        }
        if (!doc.authorizationData) return b; // an error answer (signature refused): as moto gave it
        const now = Date.now();
        for (const d of doc.authorizationData) {
          const password = randomBytes(24).toString('hex');
          issued.push({ password, issuedAt: now, expiresAt: now + ttlSeconds * 1000 });
          d.authorizationToken = Buffer.from(`AWS:${password}`).toString('base64');
          d.expiresAt = (now + ttlSeconds * 1000) / 1000;
        }
        return Buffer.from(JSON.stringify(doc));
      }),
    );
  });
  return { url: `http://127.0.0.1:${port}`, issued };
}

export interface AuthProxy {
  /** host:port images name */
  address: string;
  /** requests refused for a token that was once valid but is now too old or expired */
  staleRefusals(): number;
  /** requests let through, with the issue time of the token they carried */
  accepted(): { issuedAt: number; path: string }[];
  /** every request: method, path and what was done (for a failing test's message) */
  trace(): string[];
}

export async function startAuthProxy(
  t: Pick<TestContext, 'after'>,
  backend: string,
  issuer: EcrIssuer,
  maxAgeSeconds: number,
): Promise<AuthProxy> {
  const target = new URL(`http://${backend}`);
  let stale = 0;
  const accepted: { issuedAt: number; path: string }[] = [];
  const trace: string[] = [];
  const port = await listen(t, (req, res) => {
    const m = /^Basic (.+)$/.exec(String(req.headers.authorization ?? ''));
    const [user, password] = m
      ? Buffer.from(m[1] as string, 'base64')
          .toString()
          .split(':')
      : [];
    const token = user === 'AWS' ? issuer.issued.find((i) => i.password === password) : undefined;
    const now = Date.now();
    if (!token || now - token.issuedAt > maxAgeSeconds * 1000 || now >= token.expiresAt) {
      if (token) stale++;
      trace.push(
        `${new Date(now).toISOString()} ${req.method} ${req.url} 401 ${token ? 'stale' : m ? 'unknown token' : 'no auth'}`,
      );
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="keyless-test-ecr"',
        'Docker-Distribution-API-Version': 'registry/2.0',
        'Content-Type': 'application/json',
      });
      res.end(
        JSON.stringify({
          errors: [{ code: 'UNAUTHORIZED', message: token ? 'token expired' : 'no basic auth credentials' }],
        }),
      );
      return;
    }
    accepted.push({ issuedAt: token.issuedAt, path: req.url ?? '' });
    trace.push(
      `${new Date(now).toISOString()} ${req.method} ${req.url} through (token from ${new Date(token.issuedAt).toISOString()})`,
    );
    const headers = { ...req.headers };
    delete headers.authorization;
    forward(target, Object.assign(req, { headers }), res, undefined);
  });
  return {
    address: `127.0.0.1:${port}`,
    staleRefusals: () => stale,
    accepted: () => [...accepted],
    trace: () => [...trace],
  };
}
