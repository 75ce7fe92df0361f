// Body of `keyless swarm registry-auth`, and the refresher `keyless swarm agent --registry-auth` runs.
import { loadEnv, type KeylessEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import type { DockerClient } from '../../../docker/engine/client.js';
import {
  refreshRegistryAuth,
  startRegistryAuthRefresher,
  type RegistryAuthDeps,
} from '../../../docker/swarm/registry-auth.js';
import { fetchEcrToken } from '../../../ecr/fetch-token.js';
import { readRegistrySettings, resolveRegistry, tokenIdentity } from '../../../ecr/registry-settings.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';

export function registryAuthDeps(
  env: KeylessEnv,
  client: DockerClient,
  log: (l: string) => void,
): RegistryAuthDeps {
  const settingsPath = keylessPaths(env.keylessHome).ecrRegistries;
  return {
    client,
    log,
    // read each time: `keyless ecr configure` takes effect at the next refresh
    resolve: async (host) => resolveRegistry(host, await readRegistrySettings(settingsPath)),
    token: (r) => fetchEcrToken(r.registry, env, tokenIdentity(r, env), () => undefined),
  };
}

/** Starts the refresher for the agent (`--registry-auth`); returns its stop function. */
export function startAgentRegistryAuth(env: KeylessEnv, client: DockerClient): () => void {
  const r = startRegistryAuthRefresher(registryAuthDeps(env, client, (l) => output.info(l)));
  return () => r.close();
}

export async function runRegistryAuth(services: string[], opts: { once?: boolean }): Promise<ExitCode> {
  const env = loadEnv();
  const deps = registryAuthDeps(env, dockerClientFromEnv(env), (l) => output.info(l));
  if (opts.once) {
    const results = await refreshRegistryAuth(deps, services);
    for (const r of results)
      output.data(
        r.error
          ? `${r.service}: not refreshed (${r.registry}): ${r.error}`
          : `${r.service}: registry auth for ${r.registry} refreshed, valid until ${new Date(r.expiresAt ?? 0).toISOString()}`,
      );
    if (results.length === 0) output.data('no service uses a registry keyless serves');
    return results.some((r) => r.error) ? 1 : 0;
  }
  const refresher = startRegistryAuthRefresher(deps, services);
  output.info('keyless swarm registry-auth: keeping registry auth fresh (Ctrl-C to stop)');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  refresher.close();
  return 0;
}
