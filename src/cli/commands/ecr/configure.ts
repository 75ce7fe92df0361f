// Bodies of `keyless ecr configure` (credHelpers + per-registry settings) and `keyless ecr cache list`.
import { loadEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { configureCredHelpers } from '../../../ecr/configure.js';
import { parseRegistryHost } from '../../../ecr/registry-host.js';
import {
  readRegistrySettings,
  registryKey,
  validateSetting,
  writeRegistrySettings,
  type RegistrySetting,
} from '../../../ecr/registry-settings.js';
import { readCache } from '../../../ecr/token-cache.js';
import { usageError } from '../../../errors.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { EcrConfigureOptions } from '../ecr.js';

export async function runEcrConfigure(registries: string[], opts: EcrConfigureOptions): Promise<ExitCode> {
  const env = loadEnv();
  const paths = keylessPaths(env.keylessHome);
  const settings = await readRegistrySettings(paths.ecrRegistries);
  const wantsSettings = Boolean(opts.profile || opts.roleArn || opts.account || opts.region);
  const configured = new Set<string>();
  let settingsChanged = false;
  for (const r of registries) {
    const key = registryKey(r);
    if (key === '') throw usageError(`"${r}" is not a registry host.`);
    const known = parseRegistryHost(r);
    if (opts.remove) {
      if (settings.registries[key]) {
        delete settings.registries[key];
        settingsChanged = true;
        configured.add(key);
      }
      continue;
    }
    if (known?.kind === 'public' && wantsSettings && (opts.account || opts.region))
      throw usageError(
        `${key} is ECR Public: it has no account or region to set (--profile or --role-arn only).`,
      );
    if (!known && !wantsSettings && !settings.registries[key]) continue; // configureCredHelpers explains
    if (!known && (!opts.account || !opts.region) && !settings.registries[key])
      throw usageError(
        `${key} is not an ECR host name, so keyless cannot tell which registry it is: give --account ACCOUNT and --region REGION.`,
      );
    if (wantsSettings) {
      const before = settings.registries[key];
      const next: RegistrySetting = {
        account:
          opts.account ?? before?.account ?? (known?.kind === 'private' ? known.account : '000000000000'),
        region: opts.region ?? before?.region ?? known?.region ?? 'us-east-1',
        ...((opts.profile ?? before?.profile) ? { profile: opts.profile ?? before?.profile } : {}),
        ...((opts.roleArn ?? before?.roleArn) ? { roleArn: opts.roleArn ?? before?.roleArn } : {}),
      };
      validateSetting(key, next);
      settings.registries[key] = next;
      settingsChanged = true;
    }
    if (settings.registries[key]) configured.add(key);
  }
  if (settingsChanged) await writeRegistrySettings(paths.ecrRegistries, settings);
  const r = await configureCredHelpers(env, registries, opts.remove ?? false, configured);
  for (const key of configured) {
    const s = settings.registries[key];
    output.data(
      s
        ? `${key}: account ${s.account}, region ${s.region}, ${s.roleArn ? `role ${s.roleArn}${s.profile ? ` from profile ${s.profile}` : ''}` : s.profile ? `profile ${s.profile}` : 'default credentials'} (${paths.ecrRegistries})`
        : `${key}: settings removed (${paths.ecrRegistries})`,
    );
  }
  output.data(
    r.changed.length === 0
      ? `${r.path}: nothing to change`
      : `${r.path}: ${opts.remove ? 'removed' : 'added'} ${r.changed.join(', ')} (backup: ${r.path}.keyless-backup)`,
  );
  return 0;
}

export async function runEcrCacheList(json: boolean): Promise<ExitCode> {
  const env = loadEnv();
  const path = keylessPaths(env.keylessHome).ecrTokenCache;
  const cache = await readCache(path, (line) => output.info(line));
  const now = Date.now();
  const rows = Object.values(cache.tokens)
    .filter((t) => t.expiresAt > now)
    .map((t) => ({
      registry: t.registry ?? '(unknown: cached by an older keyless)',
      identity: t.identity ?? '?',
      requestedAt: new Date(t.requestedAt).toISOString(),
      expiresAt: new Date(t.expiresAt).toISOString(),
      expiresInSeconds: Math.round((t.expiresAt - now) / 1000),
    }))
    .sort((a, b) => a.registry.localeCompare(b.registry));
  if (json) {
    output.data(JSON.stringify({ path, tokens: rows }, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    output.data(`${path}: no cached token`);
    return 0;
  }
  for (const r of rows)
    output.data(
      `${r.registry}  ${r.identity}  expires ${r.expiresAt} (in ${Math.floor(r.expiresInSeconds / 60)} min)`,
    );
  return 0;
}
