// Per-registry settings ($KEYLESS_HOME/ecr/registries.json): a registry host — an ECR host, a
// pull-through cache or VPC-endpoint name, or any plain host:port — mapped to the ECR account and
// region whose token it takes, and the profile or role ARN whose credentials get that token. Nothing
// secret is stored here; the file is still 0600 in the 0700 folder, written atomically.
import { readFile } from 'node:fs/promises';
import type { KeylessEnv } from '../config/env.js';
import { KeylessError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { hostOf, parseRegistryHost, partitionOf, type RegistryHost } from './registry-host.js';

export interface RegistrySetting {
  account: string;
  region: string;
  profile?: string;
  roleArn?: string;
}

export interface RegistrySettings {
  version: 1;
  /** key: the registry as images name it, host or host:port, lower case */
  registries: Record<string, RegistrySetting>;
}

/** A registry keyless serves tokens for, with the credentials to use (when set for it). */
export interface ResolvedRegistry {
  registry: RegistryHost;
  /** the key in the settings, when the registry has settings */
  configured?: string;
  profile?: string;
  roleArn?: string;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** host or host:port as images name a registry: no scheme, no path, lower case; the port kept. */
export function registryKey(serverUrl: string): string {
  let s = serverUrl.trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split('/')[0] ?? '';
  // the default HTTPS port names the same registry
  return s.replace(/:443$/, '');
}

/** Checks one setting; the message names the field and what to give. */
export function validateSetting(key: string, s: RegistrySetting): void {
  if (!ACCOUNT.test(s.account))
    throw new KeylessError(
      'ECR_SETTING_INVALID',
      `registry ${key}: account "${s.account}" is not a 12-digit AWS account id.`,
    );
  if (!REGION.test(s.region))
    throw new KeylessError(
      'ECR_SETTING_INVALID',
      `registry ${key}: region "${s.region}" is not an AWS region name (like eu-west-1).`,
    );
  if (s.roleArn !== undefined && !ROLE_ARN.test(s.roleArn))
    throw new KeylessError(
      'ECR_SETTING_INVALID',
      `registry ${key}: "${s.roleArn.slice(0, 80)}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).`,
    );
  if (s.profile !== undefined && !/^[\w.@+-]{1,128}$/.test(s.profile))
    throw new KeylessError(
      'ECR_SETTING_INVALID',
      `registry ${key}: "${s.profile.slice(0, 80)}" is not a profile name.`,
    );
}

export async function readRegistrySettings(path: string): Promise<RegistrySettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, registries: {} };
    throw err;
  }
  let parsed: RegistrySettings;
  try {
    parsed = JSON.parse(text) as RegistrySettings;
  } catch {
    throw new KeylessError(
      'ECR_SETTINGS_INVALID',
      `${path} is not valid JSON; fix it or remove it (keyless ecr configure writes it again).`,
    );
  }
  if (parsed?.version !== 1 || typeof parsed.registries !== 'object' || parsed.registries === null)
    throw new KeylessError(
      'ECR_SETTINGS_INVALID',
      `${path} is not a keyless registry settings file (version 1); fix it or remove it.`,
    );
  for (const [k, s] of Object.entries(parsed.registries)) validateSetting(k, s);
  return parsed;
}

export async function writeRegistrySettings(path: string, settings: RegistrySettings): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}

/**
 * The registry behind a server URL: its settings first (any host), else an ECR host by its name.
 * Undefined for a registry keyless does not serve (Docker Hub, another registry).
 */
export function resolveRegistry(serverUrl: string, settings: RegistrySettings): ResolvedRegistry | undefined {
  const key = registryKey(serverUrl);
  const s = settings.registries[key] ?? settings.registries[hostOf(serverUrl)];
  const known = parseRegistryHost(serverUrl);
  if (s) {
    const registry: RegistryHost =
      known?.kind === 'public'
        ? known
        : {
            kind: 'private',
            host: key,
            account: s.account,
            region: s.region,
            fips: known?.kind === 'private' ? known.fips : false,
            partition: known?.kind === 'private' ? known.partition : partitionOf('', s.region),
          };
    return {
      registry,
      configured: settings.registries[key] ? key : hostOf(serverUrl),
      ...(s.profile ? { profile: s.profile } : {}),
      ...(s.roleArn ? { roleArn: s.roleArn } : {}),
    };
  }
  return known ? { registry: known } : undefined;
}

/**
 * Whose credentials get a registry's token: its settings' profile and role; else KEYLESS_ECR_PROFILE
 * or AWS_PROFILE. A role set without a profile is assumed from the default credentials; nothing at all
 * means the environment's own (fetch-token.ts).
 */
export function tokenIdentity(r: ResolvedRegistry, env: KeylessEnv): { profile?: string; roleArn?: string } {
  const profile = r.roleArn ? r.profile : (r.profile ?? (env.vars.KEYLESS_ECR_PROFILE || env.awsProfile));
  return { ...(profile ? { profile } : {}), ...(r.roleArn ? { roleArn: r.roleArn } : {}) };
}
