// Host file checks: vault folder and file modes; plaintext long-term keys in ~/.aws/credentials;
// docker config.json with stored passwords for ECR hosts; a region.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeylessEnv } from '../../config/env.js';
import { nonEmpty } from '../../config/env.js';
import { keylessPaths } from '../../config/paths.js';
import { parseRegistryHost } from '../../ecr/registry-host.js';
import { parseCredentialsFile, parseConfigFile } from '../../sources/profile-file.js';
import { redactAccessKeyId } from '../../util/redact.js';
import type { CheckResult } from '../types.js';

/** Pure: mode problems of a private folder and its files. */
export function modeProblems(dirMode: number, files: { name: string; mode: number }[]): string[] {
  const out: string[] = [];
  if ((dirMode & 0o077) !== 0) out.push(`folder is ${(dirMode & 0o777).toString(8)}, not 700`);
  for (const f of files)
    if ((f.mode & 0o077) !== 0) out.push(`${f.name} is ${(f.mode & 0o777).toString(8)}, not 600`);
  return out;
}

export async function checkVaultPermissions(env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'vault-permissions', title: 'vault folder and file permissions' };
  const paths = keylessPaths(env.keylessHome);
  const problems: string[] = [];
  let any = false;
  for (const dir of [paths.home, paths.vaultDir, paths.sessionsDir]) {
    let st;
    try {
      st = await stat(dir);
    } catch {
      continue;
    }
    any = true;
    const files = [];
    if (dir !== paths.home)
      for (const f of await readdir(dir)) files.push({ name: f, mode: (await stat(join(dir, f))).mode });
    for (const p of modeProblems(st.mode, files)) problems.push(`${dir}: ${p}`);
  }
  if (!any) return { ...base, status: 'ok', found: `no vault yet at ${paths.home}` };
  if (problems.length === 0)
    return { ...base, status: 'ok', found: `${paths.home}: folders 0700, files 0600` };
  return {
    ...base,
    status: 'fail',
    found: problems.join('; '),
    fix: `chmod 700 ${paths.home} ${paths.vaultDir} ${paths.sessionsDir}; chmod 600 ${paths.vaultDir}/* ${paths.sessionsDir}/*`,
  };
}

export async function checkPlaintextKeys(env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'plaintext-keys', title: 'plaintext long-term keys in the AWS credentials file' };
  let text = '';
  try {
    text = await readFile(env.awsSharedCredentialsFile, 'utf8');
  } catch {
    return { ...base, status: 'ok', found: `no ${env.awsSharedCredentialsFile}` };
  }
  const found: string[] = [];
  for (const [name, s] of parseCredentialsFile(text)) {
    if (s.aws_access_key_id && s.aws_secret_access_key && !s.aws_session_token)
      found.push(`${name} (${redactAccessKeyId(s.aws_access_key_id)})`);
  }
  if (found.length === 0) return { ...base, status: 'ok', found: 'no long-term keys in plaintext' };
  const names = found.map((f) => f.split(' ')[0]);
  return {
    ...base,
    status: 'warn',
    found: `${env.awsSharedCredentialsFile} holds long-term keys for ${found.join(', ')}`,
    fix: `for each profile: keyless add NAME (it asks for the key id and secret), then delete that profile's keys from ${env.awsSharedCredentialsFile}: ${names.map((n) => `keyless add ${n}`).join('; ')}`,
  };
}

export async function checkDockerAuths(env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'docker-ecr-passwords', title: 'docker config.json passwords for ECR registries' };
  const path = join(nonEmpty(env.vars.DOCKER_CONFIG) ?? join(env.home, '.docker'), 'config.json');
  let cfg: { auths?: Record<string, { auth?: string }>; credHelpers?: Record<string, string> };
  try {
    cfg = JSON.parse(await readFile(path, 'utf8')) as typeof cfg;
  } catch {
    return { ...base, status: 'ok', found: `no readable ${path}` };
  }
  const ecr = Object.entries(cfg.auths ?? {})
    .filter(([host, a]) => a.auth && parseRegistryHost(host))
    .map(([host]) => host);
  if (ecr.length === 0) return { ...base, status: 'ok', found: 'no stored ECR passwords' };
  return {
    ...base,
    status: 'warn',
    found: `${path} stores passwords for ${ecr.join(', ')} (valid 12 h, readable by anyone with the file)`,
    fix: `keyless ecr configure ${ecr.join(' ')}, then docker logout ${ecr.join(' && docker logout ')}`,
  };
}

export async function checkRegion(env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'region', title: 'region configured' };
  if (env.awsRegion)
    return {
      ...base,
      status: 'ok',
      found: `${env.awsRegion} (from ${env.vars.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'})`,
    };
  let text = '';
  try {
    text = await readFile(env.awsConfigFile, 'utf8');
  } catch {
    // none
  }
  const profile = env.awsProfile ?? 'default';
  const region = parseConfigFile(text).config.get(profile)?.region;
  if (region)
    return { ...base, status: 'ok', found: `${region} (profile ${profile} in ${env.awsConfigFile})` };
  return {
    ...base,
    status: 'warn',
    found: 'no region in AWS_REGION, AWS_DEFAULT_REGION or the profile',
    fix: `add "region = eu-west-1" (your region) to [${profile === 'default' ? 'default' : `profile ${profile}`}] in ${env.awsConfigFile}`,
  };
}
