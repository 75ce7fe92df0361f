// A stand-in for GitHub Actions' OIDC token service (GitHub's runner service cannot run here). It
// follows what @actions/core's getIDToken and GitHub's docs describe: GET on the
// ACTIONS_ID_TOKEN_REQUEST_URL (which carries ?api-version=2.0) with &audience=AUD and
// "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN"; a wrong or missing bearer token gets 401;
// without an audience the token's aud is the owner's URL, as GitHub does; the answer is
// {"count": N, "value": "<JWT>"}. The JWT is RS256-signed with a key made here (its JWKS is written
// for the moto launcher to verify with) and carries GitHub's documented claims (iss
// https://token.actions.githubusercontent.com, sub repo:ORG/REPO:ref:REF or :environment:ENV or
// :pull_request, repository, repository_owner, ref, sha, workflow, event_name, job_workflow_ref,
// run_id, run_attempt, actor, ...). Every request is counted; tokens issued are kept so tests can grep
// for them in logs and docker inspect output.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSign, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { timingSafeEqualString } from '../../src/util/timing-safe.js';
import { tempDir } from './tmp.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

export interface GithubJob {
  repository: string;
  ref: string;
  event: string;
  /** a job that names an environment gets sub ...:environment:NAME */
  environment?: string;
}

export interface GithubOidcStandin {
  /** what the runner puts in ACTIONS_ID_TOKEN_REQUEST_URL */
  requestUrl: string;
  /** what the runner puts in ACTIONS_ID_TOKEN_REQUEST_TOKEN */
  requestToken: string;
  /** the JWKS of the signing key, as a file (for the moto launcher) */
  jwksFile: string;
  /** every request: audience asked for, and whether the bearer token matched */
  requests: { audience: string | null; authorized: boolean }[];
  /** every token issued, in order */
  issued: string[];
  /** when each of `issued` was issued (epoch ms) */
  issuedAt: number[];
  /** token lifetime in seconds (GitHub's are short-lived; default 300) */
  ttlSeconds: number;
  job: GithubJob;
  /** the runner's variables for the keyless process */
  vars(): Record<string, string>;
  /** signs arbitrary claims with the stand-in's key (for trust-policy cases of other repositories) */
  sign(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid, x5t: kid }));
  const body = b64url(JSON.stringify(claims));
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(signature)}`;
}

/** GitHub's sub claim for a job (docs: "Example subject claims"). */
export function githubSubject(job: GithubJob): string {
  const base = `repo:${job.repository}`;
  if (job.environment) return `${base}:environment:${job.environment}`;
  if (job.event === 'pull_request') return `${base}:pull_request`;
  return `${base}:ref:${job.ref}`;
}

export async function startGithubOidcStandin(
  t: Pick<TestContext, 'after'>,
  job: GithubJob = { repository: 'octo-org/octo-repo', ref: 'refs/heads/main', event: 'push' },
): Promise<GithubOidcStandin> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomBytes(16).toString('hex');
  const jwk = publicKey.export({ format: 'jwk' });
  const dir = await tempDir(t, 'keyless-gh-oidc-');
  const jwksFile = join(dir, 'jwks.json');
  await writeFile(jwksFile, JSON.stringify({ keys: [{ ...jwk, kid, use: 'sig', alg: 'RS256' }] }));
  const requestToken = randomBytes(32).toString('base64url');
  const runId = String(1_000_000 + Math.floor(Math.random() * 1_000_000));
  const state: GithubOidcStandin = {
    requestUrl: '',
    requestToken,
    jwksFile,
    requests: [],
    issued: [],
    issuedAt: [],
    ttlSeconds: 300,
    job,
    vars: () => ({
      ACTIONS_ID_TOKEN_REQUEST_URL: state.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: requestToken,
      GITHUB_ACTIONS: 'true',
      GITHUB_RUN_ID: runId,
      GITHUB_REPOSITORY: state.job.repository,
    }),
    sign: (claims) => signJwt(privateKey, kid, claims),
    close: async () => undefined,
  };
  const owner = (s: string): string => s.split('/')[0] as string;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const auth = String(req.headers.authorization ?? '');
    const authorized =
      auth.startsWith('Bearer ') && timingSafeEqualString(auth.slice('Bearer '.length), requestToken);
    const audience = url.searchParams.get('audience');
    state.requests.push({ audience, authorized });
    if (
      req.method !== 'GET' ||
      url.pathname !== '/_apis/idtoken' ||
      url.searchParams.get('api-version') !== '2.0'
    ) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"message":"Not Found"}');
      return;
    }
    if (!authorized) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"message":"Bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const j = state.job;
    const token = signJwt(privateKey, kid, {
      jti: randomUUID(),
      sub: githubSubject(j),
      aud: audience ?? `https://github.com/${owner(j.repository)}`,
      ref: j.ref,
      sha: randomBytes(20).toString('hex'),
      repository: j.repository,
      repository_owner: owner(j.repository),
      repository_owner_id: '1000',
      repository_id: '2000',
      repository_visibility: 'private',
      run_id: runId,
      run_number: '7',
      run_attempt: '1',
      actor: 'octocat',
      actor_id: '3000',
      workflow: 'ci',
      head_ref: '',
      base_ref: '',
      event_name: j.event,
      ref_type: 'branch',
      ...(j.environment ? { environment: j.environment } : {}),
      job_workflow_ref: `${j.repository}/.github/workflows/ci.yml@${j.ref}`,
      runner_environment: 'github-hosted',
      iss: GITHUB_ISSUER,
      nbf: now - 5,
      iat: now,
      exp: now + state.ttlSeconds,
    });
    state.issued.push(token);
    state.issuedAt.push(Date.now());
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ count: state.issued.length, value: token }));
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  state.requestUrl = `http://127.0.0.1:${port}/_apis/idtoken?api-version=2.0`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(() => state.close());
  return state;
}

/** The claims of a JWT (not verified; for assertions). */
export function jwtClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
