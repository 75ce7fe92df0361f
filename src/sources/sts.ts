// The only place an STS client is built (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_STS honoured).
import type { KeylessEnv } from '../config/env.js';
import { awsClientConfig } from '../aws/client-config.js';
import { awsFailureHint, awsFailureKind } from '../aws/failure.js';
import { KeylessError } from '../errors.js';
import type { Credentials } from './types.js';
import { SourceErrorCode } from './errors.js';
import { OidcErrorCode } from './oidc/oidc-errors.js';

export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  durationSeconds?: number;
  externalId?: string;
  mfaSerial?: string;
  mfaCode?: string;
}

export interface WebIdentityParams {
  roleArn: string;
  roleSessionName: string;
  /** the OIDC token; sent to STS only, never logged */
  webIdentityToken: string;
  durationSeconds?: number;
}

export interface SessionTokenParams {
  durationSeconds?: number;
  mfaSerial?: string;
  mfaCode?: string;
}

/** The STS calls sources make, injectable for tests of the runner. */
export interface StsCalls {
  assumeRole(with_: Credentials, params: AssumeRoleParams): Promise<Credentials>;
  getSessionToken(with_: Credentials, params: SessionTokenParams): Promise<Credentials>;
  /** unsigned: the token is the caller's proof (STS checks it against the role's OIDC provider) */
  assumeRoleWithWebIdentity(params: WebIdentityParams): Promise<Credentials>;
}

export function explain(err: unknown, what: string): KeylessError {
  const e = err as { name?: string; message?: string };
  const hint = awsFailureHint(err);
  return new KeylessError(
    SourceErrorCode.STS_FAILED,
    `STS ${what} failed: ${e.name ?? 'Error'}: ${e.message ?? String(err)}` + (hint ? `. ${hint}` : ''),
    {
      cause: err,
    },
  );
}

/** STS's Credentials shape → ours; a session without all three parts is an error. */
function sessionFrom(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined,
): Credentials {
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('no credentials in the answer');
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
    issuedAt: new Date(),
  };
}

export function stsCalls(env: KeylessEnv, region?: string): StsCalls {
  const client = async (credentials: Credentials) => {
    const { STSClient } = await import('@aws-sdk/client-sts');
    return new STSClient({
      ...awsClientConfig(env, { service: 'STS', ...(region ? { region } : {}), credentials }),
      maxAttempts: 3,
    });
  };
  return {
    async assumeRole(credentials, p) {
      const { AssumeRoleCommand } = await import('@aws-sdk/client-sts');
      const sts = await client(credentials);
      try {
        const r = await sts.send(
          new AssumeRoleCommand({
            RoleArn: p.roleArn,
            RoleSessionName: p.roleSessionName,
            ...(p.durationSeconds ? { DurationSeconds: p.durationSeconds } : {}),
            ...(p.externalId ? { ExternalId: p.externalId } : {}),
            ...(p.mfaSerial ? { SerialNumber: p.mfaSerial, TokenCode: p.mfaCode } : {}),
          }),
        );
        return {
          ...sessionFrom(r.Credentials),
          ...(r.AssumedRoleUser?.Arn ? { arn: r.AssumedRoleUser.Arn } : {}),
          roleArn: p.roleArn,
        };
      } catch (err) {
        throw explain(err, `AssumeRole ${p.roleArn}`);
      } finally {
        sts.destroy();
      }
    },
    async assumeRoleWithWebIdentity(p) {
      const { STSClient, AssumeRoleWithWebIdentityCommand } = await import('@aws-sdk/client-sts');
      // no credentials: the SDK's auth scheme for this operation is smithy.api#noAuth (unsigned)
      const sts = new STSClient({
        ...awsClientConfig(env, { service: 'STS', ...(region ? { region } : {}) }),
        maxAttempts: 3,
      });
      try {
        const r = await sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: p.roleArn,
            RoleSessionName: p.roleSessionName,
            WebIdentityToken: p.webIdentityToken,
            ...(p.durationSeconds ? { DurationSeconds: p.durationSeconds } : {}),
          }),
        );
        return {
          ...sessionFrom(r.Credentials),
          ...(r.AssumedRoleUser?.Arn ? { arn: r.AssumedRoleUser.Arn } : {}),
          roleArn: p.roleArn,
        };
      } catch (err) {
        const e = err as { name?: string; message?: string };
        // STS's messages name the claim at fault, never echo the token; the cause is left out so no
        // request object (which holds the token) travels with the error
        throw new KeylessError(
          OidcErrorCode.EXCHANGE_FAILED,
          `STS AssumeRoleWithWebIdentity ${p.roleArn} failed: ${e.name ?? 'Error'}: ${(e.message ?? '').slice(0, 300)}. ` +
            (awsFailureKind(err) === 'unreachable'
              ? (awsFailureHint(err) as string)
              : webIdentityHint(e.name)),
        );
      } finally {
        sts.destroy();
      }
    },
    async getSessionToken(credentials, p) {
      const { GetSessionTokenCommand } = await import('@aws-sdk/client-sts');
      const sts = await client(credentials);
      try {
        const r = await sts.send(
          new GetSessionTokenCommand({
            ...(p.durationSeconds ? { DurationSeconds: p.durationSeconds } : {}),
            ...(p.mfaSerial ? { SerialNumber: p.mfaSerial, TokenCode: p.mfaCode } : {}),
          }),
        );
        return sessionFrom(r.Credentials);
      } catch (err) {
        throw explain(err, 'GetSessionToken');
      } finally {
        sts.destroy();
      }
    },
  };
}

/** What to check for each way STS refuses a web identity token. */
function webIdentityHint(name: string | undefined): string {
  switch (name) {
    case 'ExpiredTokenException':
      return 'The token has expired: keyless reads it again for every session, so whatever provides it must keep it fresh (a CI token lives minutes; a token file must be rewritten before its exp).';
    case 'IDPRejectedClaimException':
    case 'InvalidIdentityTokenException':
      return "Check the IAM OIDC provider for the token's issuer (its URL and audience) and the token's aud claim (--oidc-audience).";
    default:
      return "Check the role's trust policy (keyless policy oidc-trust prints one) and the IAM OIDC provider for the token's issuer.";
  }
}
