// Executes a SourcePlan: base credentials (keyless vault, credentials file, credential_process, SSO,
// HashiCorp Vault), then STS (GetSessionToken or a chain of AssumeRole), each STS result cached
// encrypted in the store and reused while it has enough time left, so MFA is asked once per session.
import { createHash } from 'node:crypto';
import type { KeylessEnv } from '../config/env.js';
import { KeylessError, isKeylessError } from '../errors.js';
import type { SecretStore } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import { systemClock } from '../util/clock.js';
import { redactAccessKeyId } from '../util/redact.js';
import { SourceErrorCode } from './errors.js';
import type { BaseStep, SourcePlan } from './plan.js';
import type { StsCalls } from './sts.js';
import type { OidcSpec } from './oidc/oidc-spec.js';
import type { TokenReader } from './oidc/token-source.js';
import type { Credentials } from './types.js';

export type MfaPrompt = (mfaSerial: string, profile: string) => Promise<string>;

export interface RunDeps {
  env: KeylessEnv;
  store: () => Promise<SecretStore>;
  sts: StsCalls;
  mfa?: MfaPrompt;
  clock?: Clock;
  log?: (line: string) => void;
  /** a cached session is reused only while it has at least this long left (default 15 min) */
  minValidityMs?: number;
  /** see reuseMargin */
  reuseFraction?: number;
  /** where web identity tokens come from (tests inject; default: oidcTokenSource over env.vars) */
  oidcToken?: (spec: OidcSpec) => TokenReader;
  /** called with a disposer for leases that must be released (Vault) */
  onDispose?: (dispose: () => Promise<void>) => void;
}

const SESSION_NAME = 'keyless';

function cacheKey(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Default: a cached session is reused while it has at least 15 minutes left. */
export const DEFAULT_MIN_VALIDITY_MS = 15 * 60_000;

/**
 * How long a session must still be valid to be reused: the configured margin, but at most a fraction
 * of the session's lifetime (a third by default). Without the cap a 900-second session (the STS
 * minimum) would never be reused and MFA would be asked on every call. The credential server asks for
 * SERVER_REUSE_FRACTION: above the half of the lifetime it promises its clients (leases/lease.ts), so
 * a session taken from a cache is never one its lease would have to refresh at once.
 */
export const DEFAULT_REUSE_FRACTION = 1 / 3;
export const SERVER_REUSE_FRACTION = 0.6;

export function reuseMargin(
  minValidityMs: number | undefined,
  durationSeconds: number | undefined,
  fraction = DEFAULT_REUSE_FRACTION,
): number {
  const margin = minValidityMs ?? DEFAULT_MIN_VALIDITY_MS;
  return durationSeconds ? Math.min(margin, durationSeconds * 1000 * fraction) : margin;
}

function isCode(err: unknown, code: string): boolean {
  return isKeylessError(err) && err.code === code;
}

async function longTermKeys(
  step: Extract<BaseStep, { kind: 'long-term' }>,
  deps: RunDeps,
): Promise<Credentials> {
  let stored: { accessKeyId: string; secretAccessKey: string } | undefined;
  try {
    stored = await (await deps.store()).getKey(step.profile);
  } catch (err) {
    // a profile with plaintext keys works without a keyless vault passphrase
    if (!step.plaintext || !isCode(err, 'VAULT_PASSPHRASE_REQUIRED')) throw err;
  }
  if (stored) {
    deps.log?.(
      `${step.profile}: long-term key ${redactAccessKeyId(stored.accessKeyId)} from the keyless vault`,
    );
    return { accessKeyId: stored.accessKeyId, secretAccessKey: stored.secretAccessKey };
  }
  if (step.plaintext) return { ...step.plaintext };
  if (step.selfSourced)
    throw new KeylessError(
      SourceErrorCode.PROFILE_NOT_FOUND,
      `profile ${step.profile} names itself as source_profile in ${deps.env.awsConfigFile}, so it assumes its role with long-term keys of its own, and it has none: neither in the keyless vault (keyless add ${step.profile}) nor as aws_access_key_id / aws_secret_access_key in ${deps.env.awsSharedCredentialsFile}. Add them, or point source_profile at the profile that holds the keys.`,
    );
  throw new KeylessError(
    SourceErrorCode.PROFILE_NOT_FOUND,
    `profile ${step.profile} has no credentials: it is not in ${deps.env.awsConfigFile} with a role or source, and the keyless vault has no keys for it. Add them with \`keyless add ${step.profile}\`, or check the profile name.`,
  );
}

async function baseCredentials(step: BaseStep, deps: RunDeps): Promise<Credentials> {
  switch (step.kind) {
    case 'long-term':
      return longTermKeys(step, deps);
    case 'static-session':
      return {
        accessKeyId: step.accessKeyId,
        secretAccessKey: step.secretAccessKey,
        sessionToken: step.sessionToken,
      };
    case 'process': {
      const { fromCredentialProcess } = await import('./credential-process.js');
      return fromCredentialProcess(step.profile, step.command, { ...deps.env.vars });
    }
    case 'sso': {
      const { fromSSO } = await import('@aws-sdk/credential-providers');
      try {
        const c = await fromSSO({
          profile: step.profile,
          filepath: deps.env.awsSharedCredentialsFile,
          configFilepath: deps.env.awsConfigFile,
        })();
        return {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
          ...(c.expiration ? { expiration: c.expiration } : {}),
        };
      } catch (err) {
        throw new KeylessError(
          SourceErrorCode.SSO_FAILED,
          `profile ${step.profile}: SSO credentials failed (${(err as Error).message}). Run \`aws sso login --profile ${step.profile}\`.`,
          { cause: err },
        );
      }
    }
    case 'vault': {
      const { createVaultSource } = await import('./vault/index.js');
      const source = createVaultSource(
        {
          path: step.path,
          profile: step.profile,
          ...(step.roleArn ? { roleArn: step.roleArn } : {}),
          ...(step.ttl ? { ttl: step.ttl } : {}),
        },
        { env: deps.env, ...(deps.log ? { log: deps.log } : {}) },
      );
      deps.onDispose?.(() => source.revokeAll());
      return source();
    }
    case 'web-identity': {
      const { fromWebIdentity } = await import('./oidc/from-web-identity.js');
      const { oidcTokenSource } = await import('./oidc/token-source.js');
      return fromWebIdentity(
        {
          spec: step.spec,
          roleArn: step.roleArn,
          ...(step.roleSessionName ? { roleSessionName: step.roleSessionName } : {}),
          ...(step.durationSeconds ? { durationSeconds: step.durationSeconds } : {}),
        },
        {
          token: deps.oidcToken?.(step.spec) ?? oidcTokenSource(step.spec, { vars: deps.env.vars }),
          sts: deps.sts,
          vars: deps.env.vars,
          ...(deps.log ? { log: deps.log } : {}),
        },
      );
    }
    default:
      return step satisfies never;
  }
}

async function cached(
  deps: RunDeps,
  key: string,
  label: string,
  fetch: () => Promise<Credentials>,
  durationSeconds: number | undefined,
): Promise<Credentials> {
  const clock = deps.clock ?? systemClock;
  const minValidity = reuseMargin(deps.minValidityMs, durationSeconds, deps.reuseFraction);
  let store: SecretStore | undefined;
  try {
    store = await deps.store();
    const hit = await store.getSession(key);
    if (hit?.expiration && hit.expiration.getTime() - clock.now() >= minValidity) {
      deps.log?.(
        `${label}: cached session ${redactAccessKeyId(hit.accessKeyId)} until ${hit.expiration.toISOString()}`,
      );
      return hit;
    }
  } catch (err) {
    if (!isCode(err, 'VAULT_PASSPHRASE_REQUIRED')) throw err;
    store = undefined;
  }
  const fresh = await fetch();
  deps.log?.(
    `${label}: new session ${redactAccessKeyId(fresh.accessKeyId)} until ${fresh.expiration?.toISOString() ?? '?'}`,
  );
  if (store && fresh.expiration) await store.putSession(key, fresh);
  return fresh;
}

async function mfaCode(deps: RunDeps, serial: string, profile: string): Promise<string> {
  if (!deps.mfa) {
    throw new KeylessError(
      SourceErrorCode.MFA_REQUIRED,
      `profile ${profile} needs an MFA code (mfa_serial ${serial}) but no terminal is available. Pass --mfa-token CODE, or run interactively.`,
    );
  }
  const code = (await deps.mfa(serial, profile)).trim();
  if (!/^\d{6}$/.test(code)) {
    throw new KeylessError(SourceErrorCode.MFA_REQUIRED, `the MFA code for ${serial} must be 6 digits.`);
  }
  return code;
}

/** Runs the plan; extra role (from --role-arn) and duration apply on top. */
export async function runPlan(
  plan: SourcePlan,
  deps: RunDeps,
  extra: { roleArn?: string; roleSessionName?: string; durationSeconds?: number } = {},
): Promise<Credentials> {
  for (const r of plan.reasons) deps.log?.(r);
  let creds = await baseCredentials(plan.base, deps);
  let chain: unknown[] = [plan.base.kind, plan.base.profile, creds.accessKeyId];
  const roles = [...plan.roles];
  if (extra.roleArn) roles.push({ kind: 'assume-role', profile: plan.profile, roleArn: extra.roleArn });
  if (roles.length === 0 && plan.sessionToken && !creds.sessionToken) {
    const st = plan.sessionToken;
    const duration = extra.durationSeconds ?? st.durationSeconds;
    chain = [...chain, 'GetSessionToken', st.mfaSerial ?? '', duration ?? 0];
    const base = creds;
    creds = await cached(
      deps,
      cacheKey(chain),
      `${plan.profile}: GetSessionToken`,
      async () =>
        deps.sts.getSessionToken(base, {
          ...(duration ? { durationSeconds: duration } : {}),
          ...(st.mfaSerial
            ? { mfaSerial: st.mfaSerial, mfaCode: await mfaCode(deps, st.mfaSerial, plan.profile) }
            : {}),
        }),
      duration,
    );
  }
  for (let i = 0; i < roles.length; i++) {
    const role = roles[i] as (typeof roles)[number];
    const last = i === roles.length - 1;
    const duration = (last ? extra.durationSeconds : undefined) ?? role.durationSeconds;
    const sessionName =
      (last ? extra.roleSessionName : undefined) ??
      role.roleSessionName ??
      `${SESSION_NAME}-${role.profile}`.slice(0, 64);
    chain = [
      ...chain,
      'AssumeRole',
      role.roleArn,
      role.externalId ?? '',
      role.mfaSerial ?? '',
      duration ?? 0,
      sessionName,
    ];
    const source = creds;
    creds = await cached(
      deps,
      cacheKey(chain),
      `${role.profile}: AssumeRole ${role.roleArn}`,
      async () =>
        deps.sts.assumeRole(source, {
          roleArn: role.roleArn,
          roleSessionName: sessionName.replace(/[^\w+=,.@-]/g, '-'),
          ...(duration ? { durationSeconds: duration } : {}),
          ...(role.externalId ? { externalId: role.externalId } : {}),
          ...(role.mfaSerial
            ? { mfaSerial: role.mfaSerial, mfaCode: await mfaCode(deps, role.mfaSerial, role.profile) }
            : {}),
        }),
      duration,
    );
  }
  if (!creds.sessionToken) {
    // iam_user keys from Vault: long-lived keys of a dynamic user, bounded by the Vault lease
    if (plan.base.kind !== 'vault') {
      throw new KeylessError(
        SourceErrorCode.NO_CREDENTIALS,
        `profile ${plan.profile} produced no short-lived credentials.`,
      );
    }
  }
  return creds;
}
