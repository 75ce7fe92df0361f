// `keyless exec PROFILE -- CMD ARGS...`
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { KeylessError, usageError } from '../../../errors.js';
import type { ExitCode } from '../../action.js';
import type { CredentialFlags } from '../credentials.js';
import { sourceFromFlags } from './resolve.js';
import { oidcSpecFromFlags, oidcTokenVariables } from '../../../sources/oidc/index.js';

/** Variables that could make the child use other credentials, or that it must never see. */
const REMOVED = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'KEYLESS_PASSPHRASE',
  'VAULT_TOKEN',
  'BAO_TOKEN',
];

/**
 * commander fills [profile] from the first operand even when it came after `--`: `keyless exec --oidc
 * github -- aws s3 ls` would make "aws" the profile. An operand counts as the profile only when it
 * was written before `--`, i.e. when fewer operands follow `--` than commander found in all.
 */
export function splitExecOperands(
  profile: string | undefined,
  command: string[],
  argv: string[],
): { profile: string | undefined; command: string[] } {
  const operands = profile === undefined ? command : [profile, ...command];
  const dashDash = argv.indexOf('--');
  const afterDashDash = dashDash < 0 ? 0 : argv.length - dashDash - 1;
  if (dashDash >= 0 && afterDashDash >= operands.length) return { profile: undefined, command: operands };
  return { profile, command };
}

export async function runExec(
  profile: string | undefined,
  command: string[],
  flags: CredentialFlags,
): Promise<ExitCode> {
  if (command.length === 0) throw usageError('exec needs a command: keyless exec PROFILE -- CMD ARGS...');
  const { env, source } = await sourceFromFlags(profile, flags);
  let creds;
  try {
    creds = await source();
  } catch (err) {
    await source.dispose().catch(() => undefined);
    throw err;
  }
  const childEnv: NodeJS.ProcessEnv = { ...env.vars };
  for (const k of REMOVED) delete childEnv[k];
  const oidc = oidcSpecFromFlags(flags);
  if (oidc) for (const k of oidcTokenVariables(oidc)) delete childEnv[k];
  childEnv.AWS_ACCESS_KEY_ID = creds.accessKeyId;
  childEnv.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
  if (creds.sessionToken) childEnv.AWS_SESSION_TOKEN = creds.sessionToken;
  if (creds.expiration) childEnv.AWS_CREDENTIAL_EXPIRATION = creds.expiration.toISOString();
  const region = env.awsRegion ?? source.region;
  if (region) {
    childEnv.AWS_REGION = region;
    childEnv.AWS_DEFAULT_REGION = region;
  }
  const [cmd, ...args] = command as [string, ...string[]];
  const status = await new Promise<number>((resolve, reject) => {
    const child = spawn(cmd, args, { env: childEnv, stdio: 'inherit' });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    const cleanup = (): void => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      reject(
        new KeylessError(
          'EXEC_FAILED',
          err.code === 'ENOENT'
            ? `command not found: ${cmd}. Check the name and PATH.`
            : `cannot run ${cmd}: ${err.message}`,
        ),
      );
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1));
    });
  }).finally(() => source.dispose().catch(() => undefined));
  // the command's status passes through (it may be any 0-255 value)
  return status as ExitCode;
}
