// A stand-in for HashiCorp Vault's HTTP API (no Vault server can run on these machines). It follows
// Vault's documented AWS secrets engine API exactly where keyless touches it: GET/PUT
// /v1/<mount>/creds/<role> and /v1/<mount>/sts/<role>, PUT /v1/sys/leases/revoke,
// GET /v1/auth/token/lookup-self, X-Vault-Token, X-Vault-Namespace, {"errors": [...]} bodies,
// 403 permission denied, 503 sealed. The credentials it returns are REAL ones minted from
// moto_server (AssumeRole, or CreateUser + CreateAccessKey for iam_user), so everything after
// Vault (SigV4-checked SDK calls) is real.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { STSClient, AssumeRoleCommand, GetSessionTokenCommand } from '@aws-sdk/client-sts';
import {
  IAMClient,
  CreateUserCommand,
  CreateAccessKeyCommand,
  PutUserPolicyCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  DeleteUserCommand,
} from '@aws-sdk/client-iam';
import type { TestContext } from 'node:test';
import type { Moto } from './moto.js';

export interface StandinRole {
  type: 'assumed_role' | 'iam_user' | 'session_token';
  /** assumed_role: role ARNs allowed (first is the default) */
  roleArns?: string[];
  defaultTtlSeconds?: number;
}

export interface StandinToken {
  /** paths the token's policy allows, e.g. ['aws/creds/deploy'] or ['*'] */
  paths: string[];
  /** epoch ms; undefined = never expires */
  expiresAt?: number;
}

export interface VaultStandin {
  url: string;
  sealed: boolean;
  /** emulate Vault < 1.16 / OpenBao: only security_token, no session_token */
  legacyTokenField: boolean;
  /** require this namespace header (Enterprise/HCP) */
  requireNamespace?: string;
  tokens: Map<string, StandinToken>;
  roles: Map<string, StandinRole>;
  /** lease ids revoked through /v1/sys/leases/revoke, in order */
  revoked: string[];
  /** every request: method, path, namespace header */
  requests: { method: string; path: string; namespace?: string }[];
  /** iam_user leases → user name at moto */
  iamUsers: Map<string, string>;
  close(): Promise<void>;
}

export async function startVaultStandin(
  t: Pick<TestContext, 'after'>,
  moto: Moto,
  mount = 'aws',
): Promise<VaultStandin> {
  const admin = { accessKeyId: moto.identity.accessKeyId, secretAccessKey: moto.identity.secretAccessKey };
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, credentials: admin });
  const iam = new IAMClient({ region: 'us-east-1', endpoint: moto.url, credentials: admin });
  const leases = new Map<string, { role: string; iamUser?: { name: string; keyId: string } }>();
  const state: VaultStandin = {
    url: '',
    sealed: false,
    legacyTokenField: false,
    tokens: new Map(),
    roles: new Map(),
    revoked: [],
    requests: [],
    iamUsers: new Map(),
    close: async () => undefined,
  };

  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      res.writeHead(status);
      res.end();
      return;
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  const errors = (res: ServerResponse, status: number, ...messages: string[]): void =>
    send(res, status, { errors: messages });

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://standin');
    const ns = req.headers['x-vault-namespace'];
    state.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      ...(typeof ns === 'string' ? { namespace: ns } : {}),
    });
    if (state.sealed) return errors(res, 503, 'Vault is sealed');
    if (state.requireNamespace !== undefined && ns !== state.requireNamespace)
      return errors(res, 403, 'permission denied');
    const tokenHeader = req.headers['x-vault-token'];
    const token = typeof tokenHeader === 'string' ? state.tokens.get(tokenHeader) : undefined;
    const tokenValid = token !== undefined && (token.expiresAt === undefined || token.expiresAt > Date.now());
    if (!tokenValid) return errors(res, 403, 'permission denied');
    const path = url.pathname.replace(/^\/v1\//, '');
    const allowed = (p: string): boolean => token.paths.some((a) => a === '*' || a === p);

    if (path === 'auth/token/lookup-self' && req.method === 'GET') {
      return send(res, 200, {
        data: {
          policies: ['default'],
          ttl: token.expiresAt ? Math.round((token.expiresAt - Date.now()) / 1000) : 0,
        },
      });
    }
    if (path === 'sys/leases/revoke' && (req.method === 'PUT' || req.method === 'POST')) {
      const leaseId = (JSON.parse(raw || '{}') as { lease_id?: string }).lease_id;
      if (!leaseId) return errors(res, 400, 'missing lease_id');
      const lease = leases.get(leaseId);
      if (lease?.iamUser) {
        // iam_user: Vault deletes keys, policies and the user.
        const u = lease.iamUser;
        await iam.send(new DeleteAccessKeyCommand({ UserName: u.name, AccessKeyId: u.keyId }));
        await iam.send(new DeleteUserPolicyCommand({ UserName: u.name, PolicyName: 'vault' }));
        await iam.send(new DeleteUserCommand({ UserName: u.name }));
      }
      leases.delete(leaseId);
      state.revoked.push(leaseId);
      return send(res, 204);
    }
    const m = new RegExp(`^${mount}/(creds|sts)/([^/]+)$`).exec(path);
    if (!m || !['GET', 'PUT', 'POST'].includes(req.method ?? ''))
      return errors(res, 404, `no handler for route "${path}". route entry not found.`);
    if (!allowed(path)) return errors(res, 403, 'permission denied');
    const [, kind, roleName] = m as unknown as [string, string, string];
    const role = state.roles.get(roleName);
    if (!role) return errors(res, 400, `Role "${roleName}" not found`);
    const params = (raw ? JSON.parse(raw) : Object.fromEntries(url.searchParams)) as {
      ttl?: string;
      role_arn?: string;
      role_session_name?: string;
    };
    const ttl = params.ttl ? Number(params.ttl.replace(/s$/, '')) : (role.defaultTtlSeconds ?? 3600);
    const leaseId = `${mount}/${kind}/${roleName}/${randomBytes(12).toString('base64url')}`;
    if (role.type === 'iam_user') {
      if (kind !== 'creds')
        return errors(res, 400, `Role "${roleName}" is of type iam_user; use ${mount}/creds`);
      const name = `vault-${roleName}-${randomBytes(4).toString('hex')}`;
      await iam.send(new CreateUserCommand({ UserName: name }));
      await iam.send(
        new PutUserPolicyCommand({
          UserName: name,
          PolicyName: 'vault',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
          }),
        }),
      );
      const key = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
      leases.set(leaseId, { role: roleName, iamUser: { name, keyId: key.AccessKey?.AccessKeyId ?? '' } });
      state.iamUsers.set(leaseId, name);
      return send(res, 200, {
        request_id: randomBytes(8).toString('hex'),
        lease_id: leaseId,
        renewable: true,
        lease_duration: 2764800,
        data: {
          access_key: key.AccessKey?.AccessKeyId,
          secret_key: key.AccessKey?.SecretAccessKey,
          security_token: null,
          ...(state.legacyTokenField ? {} : { session_token: null }),
        },
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    let creds: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined;
    let arn: string | undefined;
    if (role.type === 'assumed_role') {
      const roleArn = params.role_arn ?? role.roleArns?.[0];
      if (!roleArn || !(role.roleArns ?? []).includes(roleArn))
        return errors(
          res,
          400,
          `role_arn "${roleArn ?? ''}" not in allowed role arns for Vault role "${roleName}"`,
        );
      const r = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: params.role_session_name ?? `vault-${roleName}-${Date.now()}`,
          DurationSeconds: Math.max(ttl, 900),
        }),
      );
      creds = r.Credentials;
      arn = r.AssumedRoleUser?.Arn;
    } else {
      const r = await sts.send(new GetSessionTokenCommand({ DurationSeconds: Math.max(ttl, 900) }));
      creds = r.Credentials;
    }
    leases.set(leaseId, { role: roleName });
    return send(res, 200, {
      request_id: randomBytes(8).toString('hex'),
      lease_id: leaseId,
      renewable: false,
      lease_duration: ttl,
      data: {
        access_key: creds?.AccessKeyId,
        secret_key: creds?.SecretAccessKey,
        security_token: creds?.SessionToken,
        ...(state.legacyTokenField ? {} : { session_token: creds?.SessionToken }),
        ...(arn ? { arn } : {}),
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    });
  };

  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (raw += d));
    req.on('end', () => {
      handle(req, res, raw).catch((err: unknown) => errors(res, 500, `stand-in error: ${String(err)}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  state.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
      sts.destroy();
      iam.destroy();
    });
  t.after(() => state.close());
  return state;
}

/** Adds a token to the stand-in and returns its value. */
export function addToken(vault: VaultStandin, token: StandinToken): string {
  const value = `hvs.${randomBytes(18).toString('base64url')}`;
  vault.tokens.set(value, token);
  return value;
}
