// `keyless export PROFILE --format env|json|credential-process`
import type { Credentials } from '../../../sources/types.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { CredentialFlags } from '../credentials.js';
import { sourceFromFlags } from './resolve.js';

/** POSIX single-quoting: safe for any value. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderExport(c: Credentials, format: string, region: string | undefined): string {
  const exp = c.expiration?.toISOString();
  if (format === 'credential-process') {
    return JSON.stringify({
      Version: 1,
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { SessionToken: c.sessionToken } : {}),
      ...(exp ? { Expiration: exp } : {}),
    });
  }
  if (format === 'json') {
    return JSON.stringify(
      {
        AccessKeyId: c.accessKeyId,
        SecretAccessKey: c.secretAccessKey,
        SessionToken: c.sessionToken,
        Expiration: exp,
        ...(region ? { Region: region } : {}),
      },
      null,
      2,
    );
  }
  const lines = [
    ['AWS_ACCESS_KEY_ID', c.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', c.secretAccessKey],
    ['AWS_SESSION_TOKEN', c.sessionToken],
    ['AWS_CREDENTIAL_EXPIRATION', exp],
    ['AWS_REGION', region],
    ['AWS_DEFAULT_REGION', region],
  ].filter((l): l is [string, string] => l[1] !== undefined);
  return lines.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n');
}

export async function runExport(
  profile: string | undefined,
  flags: CredentialFlags & { format: string },
): Promise<ExitCode> {
  const { env, source } = await sourceFromFlags(profile, flags);
  const creds = await source();
  output.data(renderExport(creds, flags.format, env.awsRegion ?? source.region));
  return 0;
}
