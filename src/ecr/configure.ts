// Adds or removes `credHelpers` entries for ECR registries in the docker config ($DOCKER_CONFIG or
// ~/.docker/config.json), keeping every other key, atomically, with a backup of the previous file.
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KeylessEnv } from '../config/env.js';
import { nonEmpty } from '../config/env.js';
import { CommonErrorCode, KeylessError } from '../errors.js';
import { writeUserFile } from '../util/atomic-file.js';
import { hostOf, parseRegistryHost } from './registry-host.js';
import { registryKey } from './registry-settings.js';

export const HELPER_NAME = 'keyless';

export function dockerConfigPath(env: KeylessEnv): string {
  return join(nonEmpty(env.vars.DOCKER_CONFIG) ?? join(env.home, '.docker'), 'config.json');
}

export async function configureCredHelpers(
  env: KeylessEnv,
  registries: string[],
  remove: boolean,
  /** registries with per-registry settings (any host): served too */
  configured: ReadonlySet<string> = new Set(),
): Promise<{ path: string; changed: string[] }> {
  const hosts = registries.map((r) => {
    if (configured.has(registryKey(r))) return registryKey(r);
    if (!parseRegistryHost(r) && !remove) {
      throw new KeylessError(
        'ECR_NOT_A_REGISTRY',
        `"${r}" is not an ECR registry host (like 123456789012.dkr.ecr.eu-west-1.amazonaws.com or public.ecr.aws). For another host (a pull-through cache or VPC-endpoint name, host:port), say which ECR registry it is: --account ACCOUNT --region REGION.`,
      );
    }
    return parseRegistryHost(r) ? hostOf(r) : registryKey(r);
  });
  const path = dockerConfigPath(env);
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new KeylessError(
        CommonErrorCode.FILE_UNREADABLE,
        `cannot read the docker config ${path} (${code ?? String(err)}). Check DOCKER_CONFIG (a folder) and the file's permissions; nothing was changed.`,
        { cause: err },
      );
  }
  let config: Record<string, unknown> = {};
  if (text.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new KeylessError(
        'ECR_DOCKER_CONFIG_INVALID',
        `${path} is not valid JSON; fix it first (nothing was changed).`,
      );
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new KeylessError(
        'ECR_DOCKER_CONFIG_INVALID',
        `${path} is not a JSON object as docker writes it; fix it first (nothing was changed).`,
      );
    config = parsed as Record<string, unknown>;
  }
  const helpers = { ...((config.credHelpers as Record<string, string> | undefined) ?? {}) };
  const changed: string[] = [];
  for (const h of hosts) {
    if (remove) {
      if (helpers[h] === HELPER_NAME) {
        delete helpers[h];
        changed.push(h);
      }
    } else if (helpers[h] !== HELPER_NAME) {
      helpers[h] = HELPER_NAME;
      changed.push(h);
    }
  }
  if (changed.length === 0) return { path, changed };
  const next = { ...config, credHelpers: helpers };
  if (Object.keys(helpers).length === 0) delete (next as Record<string, unknown>).credHelpers;
  if (text !== '') await copyFile(path, `${path}.keyless-backup`);
  // the docker folder is the user's (often a link, or 0755): created when missing, never re-moded
  await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch(() => undefined);
  await writeUserFile('the docker config', path, `${JSON.stringify(next, null, '\t')}\n`, 0o600);
  return { path, changed };
}
