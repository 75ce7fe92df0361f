// Profile name → the ordered steps that produce its credentials, each with the reason it was chosen
// (pure; no file, network or clock). The same plan feeds --debug logs.
//
// Choice (documented in the README): long-term keys are only ever used to call STS. A plain profile
// gets GetSessionToken (with MFA when mfa_serial is set). A role profile is AssumeRole signed directly
// with its source's credentials, MFA passed to AssumeRole: one STS call instead of aws-vault's
// GetSessionToken-then-AssumeRole, and the session is still cached so MFA is asked once per session.
import { KeylessError } from '../errors.js';
import { SourceErrorCode } from './errors.js';
import type { ProfileFiles, ProfileSettings } from './profile-file.js';
import { clip } from './profile-file.js';
import type { OidcSpec } from './oidc/oidc-spec.js';

export type BaseStep =
  | {
      kind: 'long-term';
      profile: string;
      plaintext?: { accessKeyId: string; secretAccessKey: string };
      /** the profile has role_arn and names itself as source_profile */
      selfSourced?: boolean;
    }
  | {
      kind: 'static-session';
      profile: string;
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
    }
  | { kind: 'process'; profile: string; command: string }
  | { kind: 'sso'; profile: string }
  | { kind: 'vault'; profile: string; path: string; roleArn?: string; ttl?: string }
  | {
      kind: 'web-identity';
      profile: string;
      spec: OidcSpec;
      roleArn: string;
      roleSessionName?: string;
      durationSeconds?: number;
    };

export interface RoleStep {
  kind: 'assume-role';
  profile: string;
  roleArn: string;
  externalId?: string;
  roleSessionName?: string;
  durationSeconds?: number;
  mfaSerial?: string;
}

export interface SourcePlan {
  profile: string;
  region?: string;
  base: BaseStep;
  /** GetSessionToken on top of long-term keys (plain profiles only) */
  sessionToken?: { mfaSerial?: string; durationSeconds?: number };
  roles: RoleStep[];
  reasons: string[];
  warnings: string[];
}

export const MIN_DURATION = 900;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+/;
/** the name a web identity plan goes by in messages and lease labels (it has no profile) */
export const WEB_IDENTITY_PLAN = 'web-identity';
export const MAX_DURATION = 43_200;

const DEFAULT_CONFIG_NAME = '~/.aws/config';

/** How messages name the files: the paths they were read from (AWS_CONFIG_FILE...), else the defaults. */
function fileNames(files: ProfileFiles): { config: string; credentials: string } {
  return files.paths ?? { config: DEFAULT_CONFIG_NAME, credentials: '~/.aws/credentials' };
}

function invalid(profile: string, key: string, message: string, where = DEFAULT_CONFIG_NAME): KeylessError {
  return new KeylessError(SourceErrorCode.CONFIG_INVALID, `${where} [profile ${profile}] ${key}: ${message}`);
}

export function parseDuration(
  profile: string,
  value: string | undefined,
  key = 'duration_seconds',
  where = DEFAULT_CONFIG_NAME,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_DURATION || n > MAX_DURATION) {
    throw invalid(
      profile,
      key,
      `expected a whole number of seconds from ${MIN_DURATION} to ${MAX_DURATION}, got "${clip(value)}"`,
      where,
    );
  }
  return n;
}

function settingsOf(
  files: ProfileFiles,
  profile: string,
): { config?: ProfileSettings; creds?: ProfileSettings } {
  const out: { config?: ProfileSettings; creds?: ProfileSettings } = {};
  const c = files.config.get(profile);
  const k = files.credentials.get(profile);
  if (c) out.config = c;
  if (k) out.creds = k;
  return out;
}

/**
 * Plans the credentials of `profile`. A profile found in neither file is a keyless-vault-only profile
 * (its keys live in the store); whether the store has them is checked when the plan runs.
 */
export function planProfile(files: ProfileFiles, profile: string): SourcePlan {
  const names = fileNames(files);
  const reasons: string[] = [];
  const warnings: string[] = [];
  const roles: RoleStep[] = [];
  const visited: string[] = [];
  let region: string | undefined;
  let current = profile;
  for (;;) {
    if (visited.includes(current)) {
      throw new KeylessError(
        SourceErrorCode.CYCLE,
        `profile ${profile}: source_profile chain loops (${[...visited, current].join(' → ')}). Fix source_profile in ${names.config}.`,
      );
    }
    visited.push(current);
    const { config, creds } = settingsOf(files, current);
    const s: ProfileSettings = { ...(creds ?? {}), ...(config ?? {}) };
    region ??= s.region;
    const roleArn = s.role_arn;
    if (roleArn) {
      if (!ROLE_ARN.test(roleArn))
        throw invalid(
          current,
          'role_arn',
          `"${clip(roleArn)}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`,
          names.config,
        );
      if (s.web_identity_token_file) {
        // botocore's rule: role_arn with web_identity_token_file is a web identity profile, and
        // source_profile / credential_source beside them are not used
        if (s.source_profile || s.credential_source)
          warnings.push(
            `profile ${current} has web_identity_token_file, so its ${s.source_profile ? 'source_profile' : 'credential_source'} is not used (as in the AWS CLI).`,
          );
        const d = parseDuration(current, s.duration_seconds, 'duration_seconds', names.config);
        reasons.push(
          `${current}: AssumeRoleWithWebIdentity ${roleArn} with the token in ${s.web_identity_token_file}`,
        );
        return finish({
          kind: 'web-identity',
          profile: current,
          spec: { kind: 'file', path: s.web_identity_token_file },
          roleArn,
          ...(s.role_session_name ? { roleSessionName: s.role_session_name } : {}),
          ...(d !== undefined ? { durationSeconds: d } : {}),
        });
      }
      const step: RoleStep = { kind: 'assume-role', profile: current, roleArn };
      if (s.external_id) step.externalId = s.external_id;
      if (s.role_session_name) step.roleSessionName = s.role_session_name;
      const d = parseDuration(current, s.duration_seconds, 'duration_seconds', names.config);
      if (d !== undefined) step.durationSeconds = d;
      if (s.mfa_serial) step.mfaSerial = s.mfa_serial;
      roles.unshift(step);
      reasons.push(`${current}: AssumeRole ${roleArn}${step.mfaSerial ? ' with MFA' : ''}`);
      const src = s.source_profile;
      if (src) {
        // a profile whose source_profile is itself may hold keys beside role_arn (AWS CLI rule)
        if (src === current) {
          reasons.push(`${current}: source_profile is itself: its own long-term keys`);
          return finish(base(files, current, s, reasons, warnings, true));
        }
        current = src;
        continue;
      }
      if (s.credential_source) {
        throw invalid(
          current,
          'credential_source',
          `"${s.credential_source}" is not supported by keyless; use source_profile`,
          names.config,
        );
      }
      throw invalid(
        current,
        'role_arn',
        'needs source_profile (the profile whose credentials assume the role)',
        names.config,
      );
    }
    if (s.web_identity_token_file)
      throw invalid(
        current,
        'web_identity_token_file',
        'needs role_arn (the role the token is exchanged for)',
        names.config,
      );
    if (s.source_profile && !s.vault_path)
      throw invalid(
        current,
        'source_profile',
        `"${clip(s.source_profile)}" is set but role_arn is missing: source_profile only names the profile whose keys assume role_arn. Add role_arn, or remove source_profile.`,
        names.config,
      );
    if (!config && !creds && visited.length === 1) {
      reasons.push(
        `${current}: not in ${names.config} or ${names.credentials}: long-term keys from the keyless vault`,
      );
      return finish({ kind: 'long-term', profile: current }, s);
    }
    if (!config && !creds) {
      reasons.push(`${current}: long-term keys from the keyless vault`);
      return finish({ kind: 'long-term', profile: current }, s);
    }
    return finish(base(files, current, s, reasons, warnings, false), s);
  }

  function finish(b: BaseStep, s?: ProfileSettings): SourcePlan {
    const plan: SourcePlan = { profile, base: b, roles, reasons, warnings };
    if (region) plan.region = region;
    if (b.kind === 'long-term' && roles.length === 0) {
      const top = {
        ...(files.credentials.get(profile) ?? {}),
        ...(files.config.get(profile) ?? {}),
        ...(s ?? {}),
      };
      plan.sessionToken = {};
      if (top.mfa_serial) plan.sessionToken.mfaSerial = top.mfa_serial;
      const d = parseDuration(profile, top.duration_seconds, 'duration_seconds', names.config);
      if (d !== undefined) plan.sessionToken.durationSeconds = d;
      reasons.push(
        `${profile}: GetSessionToken${top.mfa_serial ? ' with MFA' : ''} (long-term keys only ever call STS)`,
      );
    }
    return plan;
  }
}

function base(
  files: ProfileFiles,
  name: string,
  s: ProfileSettings,
  reasons: string[],
  warnings: string[],
  selfSourced: boolean,
): BaseStep {
  if (s.vault_path) {
    const step: BaseStep = { kind: 'vault', profile: name, path: s.vault_path };
    if (s.vault_role_arn) step.roleArn = s.vault_role_arn;
    if (s.vault_ttl) step.ttl = s.vault_ttl;
    reasons.push(`${name}: HashiCorp Vault ${s.vault_path}`);
    return step;
  }
  if (s.credential_process && !selfSourced) {
    reasons.push(`${name}: credential_process`);
    return { kind: 'process', profile: name, command: s.credential_process };
  }
  if ((s.sso_start_url || s.sso_session) && !selfSourced) {
    reasons.push(`${name}: AWS IAM Identity Center (SSO) through the SDK`);
    return { kind: 'sso', profile: name };
  }
  const id = s.aws_access_key_id;
  const secret = s.aws_secret_access_key;
  if (id && secret) {
    if (s.aws_session_token) {
      reasons.push(`${name}: session credentials from the credentials file`);
      return {
        kind: 'static-session',
        profile: name,
        accessKeyId: id,
        secretAccessKey: secret,
        sessionToken: s.aws_session_token,
      };
    }
    warnings.push(
      `profile ${name} has plaintext long-term keys in ${files.credentials.has(name) ? fileNames(files).credentials : fileNames(files).config}; move them into keyless (keyless add ${name}) and delete them there.`,
    );
    reasons.push(`${name}: long-term keys (keyless vault first, then the plaintext file)`);
    return { kind: 'long-term', profile: name, plaintext: { accessKeyId: id, secretAccessKey: secret } };
  }
  reasons.push(`${name}: long-term keys from the keyless vault`);
  return { kind: 'long-term', profile: name, ...(selfSourced ? { selfSourced: true } : {}) };
}

export interface WebIdentityPlanInput {
  spec: OidcSpec;
  roleArn: string | undefined;
  roleSessionName?: string;
  durationSeconds?: number;
  /** where the role ARN came from, for the error: --role-arn, AWS_ROLE_ARN */
  roleArnFrom: string;
}

/** A plan with no profile: the token from `spec` exchanged for `roleArn` (--oidc, or the AWS_* variables). */
export function planWebIdentity(input: WebIdentityPlanInput): SourcePlan {
  const { spec, roleArn } = input;
  if (!roleArn)
    throw new KeylessError(
      SourceErrorCode.CONFIG_INVALID,
      `a web identity token needs the role to exchange it for: pass ${input.roleArnFrom} ARN.`,
    );
  if (!ROLE_ARN.test(roleArn))
    throw new KeylessError(
      SourceErrorCode.CONFIG_INVALID,
      `${input.roleArnFrom} "${clip(roleArn)}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).`,
    );
  return {
    profile: WEB_IDENTITY_PLAN,
    base: {
      kind: 'web-identity',
      profile: WEB_IDENTITY_PLAN,
      spec,
      roleArn,
      ...(input.roleSessionName ? { roleSessionName: input.roleSessionName } : {}),
      ...(input.durationSeconds ? { durationSeconds: input.durationSeconds } : {}),
    },
    roles: [],
    reasons: [
      `AssumeRoleWithWebIdentity ${roleArn} with a token from ${spec.kind === 'file' ? spec.path : spec.kind}`,
    ],
    warnings: [],
  };
}
