// HashiCorp Vault's AWS secrets engine (and OpenBao's secrets-aws plugin) as a credential source.
// Reads `<mount>/creds/<role>` (iam_user, assumed_role, federation_token) or `<mount>/sts/<role>`
// (assumed_role, federation_token, session_token), tracks each lease, and revokes them on dispose.
// Facts: /work/shared/docs/reference/docker-integration.md §9 (Vault api-docs/secret/aws.mdx).
import { KeylessError } from '../../errors.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { Credentials, CredentialSource } from '../types.js';
import type { VaultClient } from './vault-client.js';
import { vaultErrorText } from './vault-client.js';
import { VaultErrorCode } from './vault-errors.js';

/** `<mount>/creds/<role>` or `<mount>/sts/<role>`; mounts may be nested (team/aws/creds/x). */
const VAULT_PATH = /^([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)\/(creds|sts)\/([A-Za-z0-9_.@-]+)$/;

export interface VaultSourceOptions {
  /** vault_path from ~/.aws/config, e.g. aws/creds/deploy */
  path: string;
  /** vault_role_arn: which role when the Vault role allows several */
  roleArn?: string;
  /** vault_ttl: "900s", "15m", "1h" or seconds; STS types only */
  ttl?: string;
  roleSessionName?: string;
  /** the profile, for messages */
  profile?: string;
}

export interface VaultLease {
  readonly leaseId: string;
  readonly durationSeconds: number;
  readonly renewable: boolean;
  readonly issuedAt: number;
  /** iam_user credentials carry no session token */
  readonly iamUser: boolean;
}

export interface VaultSourceDeps {
  client: VaultClient;
  clock?: Clock;
  log?: (line: string) => void;
  /**
   * Checks that credentials work (sts:GetCallerIdentity). Used for iam_user credentials, which take
   * seconds to become valid in IAM (eventual consistency); keyless waits rather than hand out keys
   * that fail.
   */
  verify?: (credentials: Credentials) => Promise<boolean>;
  /** how long to wait for iam_user keys to become valid (default 60 s) */
  verifyTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface VaultCredentialSource extends CredentialSource {
  /** leases issued and not yet revoked */
  leases(): readonly VaultLease[];
  /** revoke every lease this source obtained (clean shutdown, end of exec) */
  revokeAll(): Promise<void>;
}

export interface ParsedVaultPath {
  mount: string;
  kind: 'creds' | 'sts';
  role: string;
}

export function parseVaultPath(path: string, profile?: string): ParsedVaultPath {
  const m = VAULT_PATH.exec(path.replace(/^\/+|\/+$/g, ''));
  if (!m) {
    throw new KeylessError(
      VaultErrorCode.CONFIG,
      `vault_path "${path}"${profile ? ` in profile ${profile}` : ''} is not MOUNT/creds/ROLE or MOUNT/sts/ROLE (e.g. aws/creds/deploy). Fix it in ~/.aws/config.`,
    );
  }
  return { mount: m[1] as string, kind: m[2] as 'creds' | 'sts', role: m[3] as string };
}

/** "900", "900s", "15m", "1h" → "900s" as Vault expects; anything else is a config error. */
export function normalizeTtl(ttl: string, profile?: string): string {
  const m = /^(\d+)\s*([smh]?)$/.exec(ttl.trim());
  if (!m) {
    throw new KeylessError(
      VaultErrorCode.CONFIG,
      `vault_ttl "${ttl}"${profile ? ` in profile ${profile}` : ''} is not a duration like 900s, 15m or 1h.`,
    );
  }
  const n = Number(m[1]);
  const seconds = m[2] === 'h' ? n * 3600 : m[2] === 'm' ? n * 60 : n;
  return `${seconds}s`;
}

interface VaultAwsData {
  access_key?: string;
  secret_key?: string;
  session_token?: string | null;
  security_token?: string | null;
  arn?: string;
}

export function fromVault(options: VaultSourceOptions, deps: VaultSourceDeps): VaultCredentialSource {
  const parsed = parseVaultPath(options.path, options.profile);
  const ttl = options.ttl !== undefined ? normalizeTtl(options.ttl, options.profile) : undefined;
  const clock = deps.clock ?? systemClock;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = deps.log ?? (() => undefined);
  const active: VaultLease[] = [];
  const apiPath = `${parsed.mount}/${parsed.kind}/${parsed.role}`;

  const source = async (): Promise<Credentials> => {
    const payload: Record<string, string> = {};
    if (options.roleArn !== undefined) payload.role_arn = options.roleArn;
    if (ttl !== undefined) payload.ttl = ttl;
    if (options.roleSessionName !== undefined) payload.role_session_name = options.roleSessionName;
    const issuedAt = clock.now();
    const res =
      Object.keys(payload).length > 0
        ? await deps.client.call('PUT', apiPath, payload)
        : await deps.client.call('GET', apiPath);
    if (res.status !== 200)
      throw await explainFailure(deps.client, res.status, res.body, apiPath, options.profile);
    const body = res.body as {
      lease_id?: string;
      lease_duration?: number;
      renewable?: boolean;
      data?: VaultAwsData;
    };
    const data = body.data;
    // session_token from Vault 1.16; older Vault and OpenBao's plugin return security_token only.
    const token = data?.session_token ?? data?.security_token ?? undefined;
    if (!data?.access_key || !data.secret_key) {
      throw new KeylessError(
        VaultErrorCode.BAD_RESPONSE,
        `Vault answered ${apiPath} without access_key/secret_key. Is ${parsed.mount}/ an AWS secrets engine mount?`,
      );
    }
    const durationSeconds = typeof body.lease_duration === 'number' ? body.lease_duration : 0;
    const lease: VaultLease = {
      leaseId: body.lease_id ?? '',
      durationSeconds,
      renewable: body.renewable === true,
      issuedAt,
      iamUser: token === undefined || token === null,
    };
    if (lease.leaseId !== '') active.push(lease);
    log(
      `vault: ${apiPath} issued lease ${lease.leaseId || '(none)'} for ${durationSeconds} s` +
        (lease.iamUser ? ' (iam_user: waiting until IAM accepts the new key)' : ''),
    );
    const credentials: Credentials = {
      accessKeyId: data.access_key,
      secretAccessKey: data.secret_key,
      ...(token ? { sessionToken: token } : {}),
      ...(durationSeconds > 0 ? { expiration: new Date(issuedAt + durationSeconds * 1000) } : {}),
      ...(data.arn ? { arn: data.arn } : {}),
      ...(options.roleArn ? { roleArn: options.roleArn } : {}),
    };
    if (lease.iamUser && deps.verify)
      await waitUntilValid(credentials, deps.verify, deps.verifyTimeoutMs ?? 60_000, sleep, apiPath);
    return credentials;
  };

  return Object.assign(source, {
    leases: () => active.slice(),
    revokeAll: async () => {
      const pending = active.splice(0);
      const failures: string[] = [];
      for (const lease of pending) {
        // STS leases: Vault only drops its record (revoke is a no-op at AWS); still asked so Vault's
        // lease table stays clean. iam_user: Vault deletes the user.
        const res = await deps.client
          .call('PUT', 'sys/leases/revoke', { lease_id: lease.leaseId })
          .catch((err: unknown) => ({
            status: 0,
            body: { errors: [String((err as Error).message)] },
          }));
        if (res.status !== 204 && res.status !== 200)
          failures.push(`${lease.leaseId}: ${vaultErrorText(res.body)}`);
        else log(`vault: revoked lease ${lease.leaseId}`);
      }
      if (failures.length > 0) {
        throw new KeylessError(
          VaultErrorCode.BAD_REQUEST,
          `could not revoke ${failures.length} Vault lease(s): ${failures.join('; ')}. Revoke them with \`vault lease revoke LEASE_ID\`.`,
        );
      }
    },
  });
}

async function waitUntilValid(
  credentials: Credentials,
  verify: (c: Credentials) => Promise<boolean>,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void>,
  apiPath: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    if (await verify(credentials).catch(() => false)) return;
    if (Date.now() + delay > deadline) {
      throw new KeylessError(
        VaultErrorCode.NOT_VALID_YET,
        `the IAM user keys Vault issued for ${apiPath} were still refused by AWS after ${Math.round(timeoutMs / 1000)} s. ` +
          "Retry; if it persists, check the Vault role's policy and the mount's root credentials.",
      );
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 4000);
  }
}

/** Turns a Vault error into the plain cause and the fix. A 403 is told apart by looking up our own token. */
async function explainFailure(
  client: VaultClient,
  status: number,
  body: unknown,
  apiPath: string,
  profile: string | undefined,
): Promise<KeylessError> {
  const text = vaultErrorText(body);
  const where = `${apiPath}${profile ? ` (profile ${profile})` : ''}`;
  const addr = client.config.address;
  if (status === 503) {
    return new KeylessError(
      VaultErrorCode.SEALED,
      `Vault at ${addr} is sealed, so it cannot issue ${where}. An operator must unseal it (\`vault operator unseal\`).`,
    );
  }
  if (status === 403) {
    const self = await client
      .call('GET', 'auth/token/lookup-self')
      .catch(() => ({ status: 0, body: undefined }));
    if (self.status === 403 || self.status === 401) {
      return new KeylessError(
        VaultErrorCode.TOKEN_EXPIRED,
        `the Vault token (from ${client.config.tokenSource}) is expired or invalid at ${addr}. Run \`vault login\` and try again.`,
      );
    }
    return new KeylessError(
      VaultErrorCode.PERMISSION_DENIED,
      `Vault denied reading ${where}: the token's policies do not allow it. Grant "read" and "update" on ${apiPath} in a Vault policy, or fix vault_path.`,
    );
  }
  if ((status === 400 || status === 404) && /role|not found|no handler/i.test(text)) {
    return new KeylessError(
      VaultErrorCode.UNKNOWN_ROLE,
      `Vault has no role for ${where}: ${text}. List the roles with \`vault list ${apiPath.replace(/\/(creds|sts)\/[^/]+$/, '/roles')}\` and fix vault_path.`,
    );
  }
  return new KeylessError(VaultErrorCode.BAD_REQUEST, `Vault refused ${where} (HTTP ${status}): ${text}.`);
}
