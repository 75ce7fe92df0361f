// A thin Docker Engine API client over node:http: finds the daemon as the docker CLI does
// (DOCKER_HOST unix:// or tcp:// with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, else the docker context
// in use: DOCKER_CONTEXT or config.json's currentContext), negotiates the API
// version with /_ping, and turns engine errors into KeylessError. Streams stay streams.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { KeylessEnv } from '../../config/env.js';
import { nonEmpty } from '../../config/env.js';
import { KeylessError } from '../../errors.js';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** The oldest API keyless speaks (Docker 20.10 = 1.41). */
export const MIN_API_VERSION = '1.41';

export const DockerErrorCode = {
  UNREACHABLE: 'DOCKER_UNREACHABLE',
  TOO_OLD: 'DOCKER_TOO_OLD',
  API: 'DOCKER_API_ERROR',
  NOT_FOUND: 'DOCKER_NOT_FOUND',
} as const;

export interface DockerEndpoint {
  /** for messages: unix:///var/run/docker.sock, tcp://host:2376 */
  readonly description: string;
  readonly socketPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
}

export interface RequestParams {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** ms; default 60 s (streams: none) */
  timeoutMs?: number;
  /** ms to wait for the answer's headers only (an engine that accepts and never answers); default none */
  answerTimeoutMs?: number;
}

/** The docker CLI's config folder: $DOCKER_CONFIG or ~/.docker. */
export function dockerConfigDir(env: KeylessEnv): string {
  return nonEmpty(env.vars.DOCKER_CONFIG) ?? join(env.home, '.docker');
}

interface ContextEndpoint {
  name: string;
  host: string;
  /** the context's TLS folder (ca.pem, cert.pem, key.pem), when it has one */
  tlsDir?: string;
  skipTlsVerify: boolean;
}

/**
 * The docker context in use, as the docker CLI picks it when DOCKER_HOST is unset: DOCKER_CONTEXT,
 * else currentContext in config.json; undefined for "default" (the default socket). Its endpoint is
 * in contexts/meta/<sha256 of the name>/meta.json, its TLS files in contexts/tls/<same>/docker/.
 */
export function dockerContextEndpoint(env: KeylessEnv): ContextEndpoint | undefined {
  const dir = dockerConfigDir(env);
  let name = nonEmpty(env.vars.DOCKER_CONTEXT);
  let from = 'DOCKER_CONTEXT';
  if (name === undefined) {
    try {
      const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { currentContext?: unknown };
      if (typeof cfg.currentContext === 'string' && cfg.currentContext !== '') name = cfg.currentContext;
      from = `currentContext in ${join(dir, 'config.json')}`;
    } catch {
      return undefined; // no (readable) docker config: the default context
    }
  }
  if (name === undefined || name === 'default') return undefined;
  const id = createHash('sha256').update(name).digest('hex');
  const metaPath = join(dir, 'contexts', 'meta', id, 'meta.json');
  let meta: { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
  try {
    meta = JSON.parse(readFileSync(metaPath, 'utf8')) as typeof meta;
  } catch {
    throw new KeylessError(
      'CONFIG_INVALID',
      `docker context "${name}" (from ${from}) is not there (${metaPath} is missing or unreadable). Run \`docker context ls\`, then \`docker context use NAME\`, or set DOCKER_HOST.`,
    );
  }
  const host = meta.Endpoints?.docker?.Host;
  if (typeof host !== 'string' || host === '') {
    throw new KeylessError(
      'CONFIG_INVALID',
      `docker context "${name}" has no docker endpoint in ${metaPath}. Recreate it (docker context create) or set DOCKER_HOST.`,
    );
  }
  const tlsDir = join(dir, 'contexts', 'tls', id, 'docker');
  return {
    name,
    host,
    skipTlsVerify: meta.Endpoints?.docker?.SkipTLSVerify === true,
    ...(existsSync(tlsDir) ? { tlsDir } : {}),
  };
}

/**
 * Resolves the endpoint as the docker CLI does: DOCKER_HOST and the TLS variables, else the docker
 * context in use (DOCKER_CONTEXT or config.json's currentContext), else the default socket.
 */
export function endpointFromEnv(
  env: KeylessEnv,
  dockerHost = nonEmpty(env.vars.DOCKER_HOST),
): DockerEndpoint {
  const context = dockerHost === undefined ? dockerContextEndpoint(env) : undefined;
  const hostValue = dockerHost ?? context?.host ?? `unix://${DEFAULT_DOCKER_SOCKET}`;
  const label = context ? `docker context ${context.name}: ${hostValue}` : hostValue;
  if (hostValue.startsWith('unix://')) {
    return { description: label, socketPath: hostValue.slice('unix://'.length) };
  }
  if (hostValue.startsWith('ssh://')) {
    throw new KeylessError(
      'CONFIG_INVALID',
      `${label}: ssh:// endpoints are not supported by keyless. Forward the remote socket (ssh -L /tmp/docker.sock:/var/run/docker.sock HOST) and set DOCKER_HOST=unix:///tmp/docker.sock.`,
    );
  }
  if (hostValue.startsWith('tcp://') || hostValue.startsWith('https://') || hostValue.startsWith('http://')) {
    const url = new URL(hostValue.replace(/^tcp:/, 'http:'));
    const verify = context
      ? context.tlsDir !== undefined && !context.skipTlsVerify
      : nonEmpty(env.vars.DOCKER_TLS_VERIFY) !== undefined && env.vars.DOCKER_TLS_VERIFY !== '0';
    const certPath = context?.tlsDir ?? nonEmpty(env.vars.DOCKER_CERT_PATH) ?? join(env.home, '.docker');
    const useTls =
      verify || hostValue.startsWith('https://') || url.port === '2376' || context?.tlsDir !== undefined;
    const endpoint: DockerEndpoint = {
      description: label,
      host: url.hostname,
      port: Number(url.port || (useTls ? 2376 : 2375)),
    };
    if (!useTls) return endpoint;
    const read = (f: string): Buffer | undefined => {
      try {
        return readFileSync(join(certPath, f));
      } catch {
        return undefined;
      }
    };
    const tls: NonNullable<DockerEndpoint['tls']> = { rejectUnauthorized: verify };
    const ca = read('ca.pem');
    const cert = read('cert.pem');
    const key = read('key.pem');
    if (ca) tls.ca = ca;
    if (cert) tls.cert = cert;
    if (key) tls.key = key;
    return { ...endpoint, tls };
  }
  throw new KeylessError(
    'CONFIG_INVALID',
    context
      ? `${label} is not unix://PATH or tcp://HOST:PORT. Use another docker context or set DOCKER_HOST.`
      : `DOCKER_HOST "${hostValue}" is not unix://PATH or tcp://HOST:PORT. Fix or unset DOCKER_HOST.`,
  );
}

export class DockerClient {
  private apiVersion: string | undefined;

  constructor(readonly endpoint: DockerEndpoint) {}

  /** GET /_ping; remembers the engine's API version (capped at what it reports). */
  async ping(): Promise<string> {
    const res = await this.raw('GET', '/_ping', {}, false);
    const body = await readBody(res);
    if (res.statusCode !== 200) throw this.apiError(res.statusCode ?? 0, body, '/_ping');
    const version = String(res.headers['api-version'] ?? MIN_API_VERSION);
    if (compareVersions(version, MIN_API_VERSION) < 0) {
      throw new KeylessError(
        DockerErrorCode.TOO_OLD,
        `the Docker engine at ${this.endpoint.description} speaks API ${version}; keyless needs ${MIN_API_VERSION} (Docker 20.10) or later. Upgrade Docker.`,
      );
    }
    this.apiVersion = version;
    return version;
  }

  async version(): Promise<string> {
    return this.apiVersion ?? (await this.ping());
  }

  /** A JSON request; throws KeylessError for engine errors (404 → DOCKER_NOT_FOUND). */
  async json<T>(method: string, path: string, params: RequestParams = {}): Promise<T> {
    const res = await this.request(method, path, params);
    const body = await readBody(res);
    if ((res.statusCode ?? 500) >= 400) throw this.apiError(res.statusCode ?? 500, body, path);
    if (body.length === 0) return undefined as T;
    const type = String(res.headers['content-type'] ?? '');
    return (type.includes('json') ? JSON.parse(body.toString('utf8')) : body.toString('utf8')) as T;
  }

  /** A streaming request; the caller consumes the response. Non-2xx answers are turned into errors. */
  async stream(method: string, path: string, params: RequestParams = {}): Promise<IncomingMessage> {
    const res = await this.request(method, path, { timeoutMs: 0, ...params });
    if ((res.statusCode ?? 500) >= 400) throw this.apiError(res.statusCode ?? 500, await readBody(res), path);
    return res;
  }

  async request(method: string, path: string, params: RequestParams = {}): Promise<IncomingMessage> {
    const version = await this.version();
    return this.raw(method, `/v${version}${path}`, params, true);
  }

  private raw(
    method: string,
    path: string,
    params: RequestParams,
    versioned: boolean,
  ): Promise<IncomingMessage> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params.query ?? {})) if (v !== undefined) qs.set(k, String(v));
    const fullPath = qs.size > 0 ? `${path}?${qs.toString()}` : path;
    // a Node stream or a streamx one (tar-stream's pack)
    const streamBody =
      params.body instanceof Readable ||
      (typeof params.body === 'object' &&
        params.body !== null &&
        typeof (params.body as Readable).pipe === 'function')
        ? (params.body as Readable)
        : undefined;
    const payload =
      params.body === undefined || streamBody
        ? undefined
        : Buffer.isBuffer(params.body)
          ? params.body
          : Buffer.from(JSON.stringify(params.body));
    const headers: Record<string, string> = { ...(params.headers ?? {}) };
    if (payload && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
    if (payload) headers['Content-Length'] = String(payload.length);
    const ep = this.endpoint;
    const options: RequestOptions = { method, path: fullPath, headers };
    if (ep.socketPath !== undefined) options.socketPath = ep.socketPath;
    else {
      options.host = ep.host;
      options.port = ep.port;
    }
    return new Promise((resolve, reject) => {
      const req = ep.tls ? httpsRequest({ ...options, ...ep.tls }) : httpRequest(options);
      const timeout = params.timeoutMs ?? 60_000;
      if (timeout > 0) req.setTimeout(timeout, () => req.destroy(new Error(`timed out after ${timeout} ms`)));
      const answer = params.answerTimeoutMs ?? 0;
      const noAnswer =
        answer > 0
          ? setTimeout(() => req.destroy(new Error(`no answer within ${answer} ms`)), answer)
          : undefined;
      if (noAnswer) req.once('close', () => clearTimeout(noAnswer));
      req.on('response', (res: IncomingMessage) => {
        clearTimeout(noAnswer);
        resolve(res);
      });
      req.on('error', (err) => {
        reject(
          new KeylessError(
            DockerErrorCode.UNREACHABLE,
            `cannot reach the Docker engine at ${ep.description} (${(err as NodeJS.ErrnoException).code ?? err.message}). ` +
              'Start dockerd (or Docker Desktop), or point DOCKER_HOST / the docker context at a running engine.',
            { cause: err },
          ),
        );
      });
      void versioned;
      if (streamBody) {
        streamBody.on('error', (err) => req.destroy(err));
        streamBody.pipe(req);
      } else req.end(payload);
    });
  }

  private apiError(status: number, body: Buffer, path: string): KeylessError {
    let message = body.toString('utf8').trim();
    try {
      message = (JSON.parse(message) as { message?: string }).message ?? message;
    } catch {
      // plain text answer
    }
    const code = status === 404 ? DockerErrorCode.NOT_FOUND : DockerErrorCode.API;
    return new KeylessError(code, `Docker engine: ${message || `HTTP ${status}`} (${path})`, {
      details: { status, path },
    });
  }
}

export function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
  });
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
