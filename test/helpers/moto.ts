// A real AWS API for tests: moto_server with signature checking on (INITIAL_NO_AUTH_ACTION_COUNT).
// The free requests are spent on seeding an IAM user with a key and a policy, and roles; every
// later request must carry a valid SigV4 signature from a key that exists in moto.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request as httpRequest } from 'node:http';
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './net.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from './keys.js';

export const MOTO_ACCOUNT = '123456789012';

export interface MotoIdentity {
  userName: string;
  userArn: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** role name → ARN */
  roles: Record<string, string>;
}

/** a request that reached moto through the counting proxy: its action, signing key id and body */
export interface SignedRequest {
  action: string;
  signer: string;
  body: string;
}

export interface Moto {
  /** every request through url, in order (signing key ids: which key was used, never a secret) */
  requests(): SignedRequest[];
  /** the URL to give clients: a counting pass-through in front of moto (no answer is changed) */
  url: string;
  /** moto itself, uncounted */
  directUrl: string;
  host: string;
  port: number;
  identity: MotoIdentity;
  /** requests that reached moto through url for an action (e.g. 'AssumeRole', 'GetSessionToken') */
  countRequests(action: string): number;
  resetCounts(): void;
  log(): string;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** default 127.0.0.1; containers need the bridge gateway (169.254.170.2) */
  host?: string;
  port?: number;
  /** role names to create (signed by the seeded user; each role may assume any other: chains work) */
  roles?: string[];
  /** free requests kept after seeding, for the test's own unsigned setup */
  extraFreeRequests?: number;
  userPolicy?: object;
  /**
   * STS AssumeRoleWithWebIdentity as real STS treats it (test/helpers/moto_sts_web_identity.py): the
   * call goes unsigned, and its token must be an RS256 JWT from this JWKS with this issuer and audience,
   * not expired. Every other action keeps moto's signature and policy checks.
   */
  webIdentity?: {
    jwksFile: string;
    issuer: string;
    audience: string;
    /** time compression: web identity sessions last this many seconds (the launcher's docstring) */
    sessionSeconds?: number;
  };
}

const WEB_IDENTITY_LAUNCHER = fileURLToPath(
  new URL('../../../test/helpers/moto_sts_web_identity.py', import.meta.url),
);

export async function startMoto(
  t: Pick<TestContext, 'after'> | undefined,
  options: StartMotoOptions = {},
): Promise<Moto> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const roles = options.roles ?? ['keyless-test-role'];
  const free = 3 + (options.extraFreeRequests ?? 0);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    INITIAL_NO_AUTH_ACTION_COUNT: String(free),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const k of Object.keys(env))
    if (k.startsWith('AWS_') && k !== 'AWS_EC2_METADATA_DISABLED') delete env[k];
  if (options.webIdentity) {
    env.KEYLESS_TEST_OIDC_JWKS = options.webIdentity.jwksFile;
    env.KEYLESS_TEST_OIDC_ISSUER = options.webIdentity.issuer;
    env.KEYLESS_TEST_OIDC_AUDIENCE = options.webIdentity.audience;
    if (options.webIdentity.sessionSeconds !== undefined)
      env.KEYLESS_TEST_STS_WEB_IDENTITY_SECONDS = String(options.webIdentity.sessionSeconds);
  }
  const [cmd, ...pre] = options.webIdentity ? ['python3', WEB_IDENTITY_LAUNCHER] : ['moto_server'];
  const child: ChildProcess = spawn(cmd as string, [...pre, '-H', host, '-p', String(port)], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let logText = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (logText += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (logText += d));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(timer);
  };
  t?.after(stop);
  try {
    await waitForPort(host, port, 30_000);
  } catch (err) {
    await stop();
    throw new Error(`moto_server did not start on ${host}:${port}: ${String(err)}\n${logText}`);
  }
  const directUrl = `http://${host}:${port}`;
  const identity = await seed(directUrl, roles, options.userPolicy);
  const counter = await startCountingProxy(host, port);
  t?.after(() => counter.close());
  return {
    url: `http://${host}:${counter.port}`,
    directUrl,
    host,
    port: counter.port,
    identity,
    countRequests: (action) => counter.counts.get(action) ?? 0,
    requests: () => [...counter.signed],
    resetCounts: () => counter.counts.clear(),
    log: () => logText,
    stop: async () => {
      await counter.close();
      await stop();
    },
  };
}

async function seed(url: string, roles: string[], userPolicy?: object): Promise<MotoIdentity> {
  // Unsigned-in-effect requests (the free ones): any key works, generated here.
  const iam = new IAMClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: fakeAccessKeyId(), secretAccessKey: fakeSecretAccessKey() },
    maxAttempts: 1,
  });
  try {
    const userName = `keyless-test-${Date.now().toString(36)}`;
    const user = await iam.send(new CreateUserCommand({ UserName: userName }));
    const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: userName,
        PolicyName: 'keyless-test',
        PolicyDocument: JSON.stringify(
          userPolicy ?? {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          },
        ),
      }),
    );
    const roleArns: Record<string, string> = {};
    const signed = new IAMClient({
      region: 'us-east-1',
      endpoint: url,
      credentials: {
        accessKeyId: key.AccessKey?.AccessKeyId ?? '',
        secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
      },
      maxAttempts: 1,
    });
    for (const name of roles) {
      const r = await signed.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
          }),
        }),
      );
      roleArns[name] = r.Role?.Arn ?? `arn:aws:iam::${MOTO_ACCOUNT}:role/${name}`;
      await signed.send(
        new PutRolePolicyCommand({
          RoleName: name,
          PolicyName: 'keyless-test',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      );
    }
    signed.destroy();
    return {
      userName,
      userArn: user.User?.Arn ?? '',
      accessKeyId: key.AccessKey?.AccessKeyId ?? '',
      secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
      roles: roleArns,
    };
  } finally {
    iam.destroy();
  }
}

/**
 * A pass-through HTTP proxy that counts AWS actions (query-protocol `Action=` in the body or URL, or
 * the JSON protocol's X-Amz-Target). Counting at the wire is how tests prove "one STS call per role".
 */
async function startCountingProxy(
  host: string,
  targetPort: number,
): Promise<{ port: number; counts: Map<string, number>; signed: SignedRequest[]; close(): Promise<void> }> {
  const counts = new Map<string, number>();
  const signed: SignedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      const fromBody = /(?:^|&)Action=([A-Za-z]+)/.exec(body.toString('utf8'));
      const fromUrl = /[?&]Action=([A-Za-z]+)/.exec(req.url ?? '');
      const action = typeof target === 'string' ? target.split('.').pop() : (fromBody?.[1] ?? fromUrl?.[1]);
      if (action !== undefined) counts.set(action, (counts.get(action) ?? 0) + 1);
      // which key signed it (SigV4 Credential=KEYID/...), and which key ids the body names
      const signer = /Credential=([A-Z0-9]{16,128})\//.exec(String(req.headers.authorization ?? ''))?.[1];
      signed.push({ action: action ?? '?', signer: signer ?? '-', body: body.toString('utf8') });
      const upstream = httpRequest(
        { host, port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    port,
    counts,
    signed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
