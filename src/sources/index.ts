// The sources surface: turn a profile (or a role ARN) into a CredentialSource.
// Issue 2 implements createCredentialSource; the signature is fixed here so other areas can code
// against it.
import type { KeylessEnv } from '../config/env.js';
import type { SecretStore } from '../store/types.js';
import type { Clock } from '../util/clock.js';
import type { Credentials, CredentialSource } from './types.js';
import { systemClock } from '../util/clock.js';
import type { OidcSpec } from './oidc/oidc-spec.js';
import type { SourcePlan } from './plan.js';

export type { Credentials, CredentialSource } from './types.js';
export type { OidcSpec } from './oidc/oidc-spec.js';

/** The AWS SDKs' web identity variables (read when no profile is named; see webIdentityFromEnv). */
export const WEB_IDENTITY_TOKEN_FILE_ENV = 'AWS_WEB_IDENTITY_TOKEN_FILE';
export const ROLE_ARN_ENV = 'AWS_ROLE_ARN';
export const ROLE_SESSION_NAME_ENV = 'AWS_ROLE_SESSION_NAME';

/**
 * AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), used as the SDKs use them when
 * nothing names a profile (no --profile, no AWS_PROFILE): an EKS pod or a CI job set up that way needs
 * no keyless configuration. Only the token file set, without the role, is left to the profile path.
 */
export function webIdentityFromEnv(
  env: KeylessEnv,
): { spec: OidcSpec; roleArn: string; roleSessionName?: string } | undefined {
  const file = env.vars[WEB_IDENTITY_TOKEN_FILE_ENV];
  const roleArn = env.vars[ROLE_ARN_ENV];
  if (!file || !roleArn) return undefined;
  const name = env.vars[ROLE_SESSION_NAME_ENV];
  return { spec: { kind: 'file', path: file }, roleArn, ...(name ? { roleSessionName: name } : {}) };
}

/** Asks the user for an MFA code (terminal prompt, --mfa-token, a command). */
export type MfaPrompt = (mfaSerial: string, profile: string) => Promise<string>;

export interface SourceContext {
  env: KeylessEnv;
  /** defaults to the store configured under $KEYLESS_HOME */
  store?: SecretStore;
  mfa?: MfaPrompt;
  clock?: Clock;
  /** debug log: one line per decision with its reason; never a secret */
  log?: (line: string) => void;
}

export interface CredentialRequest {
  /** a profile in ~/.aws/config (or a vault-only profile); default AWS_PROFILE, then "default" */
  profile?: string;
  /**
   * a web identity token from here instead of a profile: roleArn is then the role the token is
   * exchanged for (AssumeRoleWithWebIdentity), not one assumed on top
   */
  oidc?: OidcSpec;
  /** assume this role on top of the profile's credentials */
  roleArn?: string;
  roleSessionName?: string;
  durationSeconds?: number;
}

export interface SourceOptions {
  /** an MFA code given up front (--mfa-token) */
  mfaToken?: string;
  /** a cached session is reused only while it has at least this long left (default 15 min) */
  minValidityMs?: number;
  /** fraction of a session's lifetime that must be left for reuse (run-plan.ts reuseMargin) */
  reuseFraction?: number;
}

/** A source that may hold leases to release when done (HashiCorp Vault). */
export type DisposableSource = CredentialSource & {
  dispose(): Promise<void>;
  region?: string;
  warnings: string[];
};

/**
 * A source of short-lived credentials for a profile or role. Long-term keys are only ever used to call
 * STS; what the source returns carries a session token and an expiration (Vault iam_user keys aside,
 * bounded by their lease). Each call returns cached credentials while they have enough time left.
 * Throws KeylessError (SOURCE_*) for a missing profile, MFA needed without a terminal, STS failures.
 */
export async function createCredentialSource(
  request: CredentialRequest,
  context: SourceContext & SourceOptions,
): Promise<DisposableSource> {
  const { runPlan, DEFAULT_MIN_VALIDITY_MS, DEFAULT_REUSE_FRACTION } = await import('./run-plan.js');
  const { stsCalls } = await import('./sts.js');
  const env = context.env;
  const { plan, extraRole } = await planRequest(request, env);
  const region = plan.region ?? env.awsRegion;
  let storePromise: Promise<SecretStore> | undefined;
  const store = (): Promise<SecretStore> => {
    if (context.store) return Promise.resolve(context.store);
    storePromise ??= import('../store/index.js').then((m) => m.openStore(env));
    return storePromise;
  };
  const disposers: (() => Promise<void>)[] = [];
  let mfa = context.mfa;
  if (context.mfaToken !== undefined) {
    const token = context.mfaToken;
    mfa = async () => token;
    if (!plan.sessionToken?.mfaSerial && !plan.roles.some((r) => r.mfaSerial))
      plan.warnings.push(
        `--mfa-token is not used: profile ${plan.profile} has no mfa_serial (set mfa_serial in its profile to use MFA).`,
      );
  }
  const run = async () =>
    runPlan(
      plan,
      {
        env,
        store,
        sts: stsCalls(env, region),
        ...(mfa ? { mfa } : {}),
        ...(context.clock ? { clock: context.clock } : {}),
        ...(context.log ? { log: context.log } : {}),
        ...(context.minValidityMs !== undefined ? { minValidityMs: context.minValidityMs } : {}),
        ...(context.reuseFraction !== undefined ? { reuseFraction: context.reuseFraction } : {}),
        onDispose: (d) => disposers.push(d),
      },
      {
        ...(extraRole ? { roleArn: extraRole } : {}),
        ...(request.roleSessionName ? { roleSessionName: request.roleSessionName } : {}),
        ...(request.durationSeconds ? { durationSeconds: request.durationSeconds } : {}),
      },
    );
  // The credential server calls the source on every refresh: answer from memory while the last
  // session has enough time left (no store decryption, no credential_process, no new Vault lease),
  // and let concurrent callers share one run (one STS call, one MFA prompt).
  const clock = context.clock ?? systemClock;
  let last: { creds: Credentials; fetchedAt: number } | undefined;
  let inflight: Promise<Credentials> | undefined;
  const source = async (): Promise<Credentials> => {
    if (last?.creds.expiration) {
      const left = last.creds.expiration.getTime() - clock.now();
      const lifetime = last.creds.expiration.getTime() - (last.creds.issuedAt?.getTime() ?? last.fetchedAt);
      if (
        left >=
        Math.min(
          context.minValidityMs ?? DEFAULT_MIN_VALIDITY_MS,
          lifetime * (context.reuseFraction ?? DEFAULT_REUSE_FRACTION),
        )
      )
        return last.creds;
    }
    inflight ??= run()
      .then((creds) => {
        last = { creds, fetchedAt: clock.now() };
        return creds;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  };
  return Object.assign(source, {
    ...(region ? { region } : {}),
    warnings: plan.warnings,
    dispose: async () => {
      // leases are about to be revoked: the kept answer must not outlive them
      last = undefined;
      const all = disposers.splice(0);
      for (const d of all) await d();
    },
  });
}

/** The request → its plan, and the role (if any) assumed on top of it. */
async function planRequest(
  request: CredentialRequest,
  env: KeylessEnv,
): Promise<{ plan: SourcePlan; extraRole?: string }> {
  const { planProfile, planWebIdentity } = await import('./plan.js');
  if (request.oidc) {
    const plan = planWebIdentity({
      spec: request.oidc,
      roleArn: request.roleArn,
      roleArnFrom: '--role-arn',
      ...(request.roleSessionName ? { roleSessionName: request.roleSessionName } : {}),
      ...(request.durationSeconds ? { durationSeconds: request.durationSeconds } : {}),
    });
    return { plan };
  }
  const fromEnv =
    request.profile === undefined && env.awsProfile === undefined ? webIdentityFromEnv(env) : undefined;
  if (fromEnv) {
    const plan = planWebIdentity({
      spec: fromEnv.spec,
      roleArn: fromEnv.roleArn,
      roleArnFrom: ROLE_ARN_ENV,
      ...(fromEnv.roleSessionName ? { roleSessionName: fromEnv.roleSessionName } : {}),
    });
    plan.reasons.unshift(`no profile named: ${WEB_IDENTITY_TOKEN_FILE_ENV} and ${ROLE_ARN_ENV}`);
    return { plan, ...(request.roleArn ? { extraRole: request.roleArn } : {}) };
  }
  const { readProfileFiles } = await import('./read-profile-files.js');
  const files = await readProfileFiles(env);
  const plan = planProfile(files, request.profile ?? env.awsProfile ?? 'default');
  return { plan, ...(request.roleArn ? { extraRole: request.roleArn } : {}) };
}
