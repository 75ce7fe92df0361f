// A safe environment for child processes and in-process code under test: no real ~/.aws, no real
// metadata service, a region, and a private KEYLESS_HOME.
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { tempDir } from './tmp.js';
import type { TestContext } from 'node:test';

/** Variables never inherited from the developer's environment (nor a CI runner's OIDC request ones). */
const STRIP = /^(AWS_|KEYLESS_|VAULT_|DOCKER_CONFIG$|ACTIONS_ID_TOKEN_REQUEST_)/;

export interface TestEnvOptions {
  /** AWS_ENDPOINT_URL */
  endpoint?: string;
  /** ~/.aws/config text */
  awsConfig?: string;
  /** ~/.aws/credentials text */
  awsCredentials?: string;
  passphrase?: string;
  extra?: Record<string, string>;
}

export interface TestEnv {
  vars: Record<string, string>;
  home: string;
  keylessHome: string;
  awsConfigFile: string;
  awsCredentialsFile: string;
}

export function baseSafeEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !STRIP.test(k)) out[k] = v;
  }
  out.AWS_EC2_METADATA_DISABLED = 'true';
  out.AWS_REGION = 'us-east-1';
  out.AWS_DEFAULT_REGION = 'us-east-1';
  return out;
}

export async function makeTestEnv(
  t: Pick<TestContext, 'after'> | undefined,
  options: TestEnvOptions = {},
): Promise<TestEnv> {
  const home = await tempDir(t, 'keyless-home-');
  const keylessHome = join(home, '.keyless');
  const awsConfigFile = join(home, 'aws-config');
  const awsCredentialsFile = join(home, 'aws-credentials');
  await writeFile(awsConfigFile, options.awsConfig ?? '');
  await writeFile(awsCredentialsFile, options.awsCredentials ?? '');
  const vars = baseSafeEnv();
  vars.HOME = home;
  vars.KEYLESS_HOME = keylessHome;
  vars.AWS_CONFIG_FILE = awsConfigFile;
  vars.AWS_SHARED_CREDENTIALS_FILE = awsCredentialsFile;
  vars.KEYLESS_PASSPHRASE = options.passphrase ?? 'test passphrase correct horse';
  if (options.endpoint !== undefined) vars.AWS_ENDPOINT_URL = options.endpoint;
  Object.assign(vars, options.extra ?? {});
  return { vars, home, keylessHome, awsConfigFile, awsCredentialsFile };
}
