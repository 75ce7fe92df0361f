// Registry auth that never goes stale for Swarm services. A service created with
// `--with-registry-auth` keeps the ECR password it was created with (12 hours); a task scheduled
// after that (a node drains, a task dies) fails to pull: "no basic auth credentials"
// (moby/moby#36126). This sends a fresh token the way `docker service update --with-registry-auth`
// does: the same spec at its current version with an X-Registry-Auth header, which only changes the
// stored pull options. Swarm does not restart running tasks for that (swarmkit IsTaskDirty ignores
// PullOptions for tasks between READY and RUNNING; the end-to-end test checks task ids stay the
// same). The token goes into the engine API call and nowhere else.
import type { DockerClient } from '../engine/client.js';
import { inspectService, listServices, type ServiceInfo } from '../engine/swarm.js';
import type { ResolvedRegistry } from '../../ecr/registry-settings.js';
import type { EcrToken } from '../../ecr/fetch-token.js';

export interface RegistryAuthDeps {
  client: DockerClient;
  /** the registry keyless serves for an image's registry host (settings, ECR names), or undefined */
  resolve(registryHost: string): Promise<ResolvedRegistry | undefined>;
  /** a fresh token for that registry */
  token(resolved: ResolvedRegistry): Promise<EcrToken>;
  log(line: string): void;
  now?: () => number;
}

export interface RegistryAuthResult {
  service: string;
  registry: string;
  /** epoch ms when the token sent expires */
  expiresAt?: number;
  error?: string;
}

/** The registry host of an image reference (host[:port] before the first "/"), or undefined (Docker Hub). */
export function imageRegistry(image: string): string | undefined {
  const slash = image.indexOf('/');
  if (slash < 0) return undefined;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost'
    ? first.toLowerCase()
    : undefined;
}

/** The X-Registry-Auth value: padded URL-safe base64 of the auth JSON, as the docker CLI sends it. */
export function registryAuthHeader(token: EcrToken, serverAddress: string): string {
  const json = JSON.stringify({
    username: token.username,
    password: token.secret,
    serveraddress: serverAddress,
  });
  return Buffer.from(json).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function serviceImage(s: ServiceInfo): string {
  const spec = s.Spec as { TaskTemplate?: { ContainerSpec?: { Image?: string } } };
  return spec.TaskTemplate?.ContainerSpec?.Image ?? '';
}

/**
 * Sends fresh registry auth to every service (or those named) whose image is on a registry keyless
 * serves. One token per registry and identity per run. A named service that is not on such a
 * registry is an error in its result; others are left alone.
 */
export async function refreshRegistryAuth(
  deps: RegistryAuthDeps,
  names: string[] = [],
): Promise<RegistryAuthResult[]> {
  const services =
    names.length > 0
      ? await Promise.all(names.map((n) => inspectService(deps.client, n)))
      : await listServices(deps.client);
  const tokens = new Map<string, Promise<EcrToken>>();
  const out: RegistryAuthResult[] = [];
  for (const s of services) {
    const name = (s.Spec as { Name?: string }).Name ?? s.ID;
    const host = imageRegistry(serviceImage(s));
    const resolved = host ? await deps.resolve(host) : undefined;
    if (!host || !resolved) {
      if (names.length > 0)
        out.push({
          service: name,
          registry: host ?? 'docker.io',
          error: `its image ${serviceImage(s).split('@')[0]} is not on a registry keyless serves (an ECR host, or one set with keyless ecr configure)`,
        });
      continue;
    }
    const who = `${resolved.registry.host} ${resolved.profile ?? ''} ${resolved.roleArn ?? ''}`;
    let pending = tokens.get(who);
    if (!pending) {
      pending = deps.token(resolved);
      tokens.set(who, pending);
    }
    try {
      const token = await pending;
      await updateWithAuth(deps.client, s, registryAuthHeader(token, host));
      deps.log(
        `${name}: fresh registry auth for ${host}, valid until ${new Date(token.expiresAt).toISOString()}`,
      );
      out.push({ service: name, registry: host, expiresAt: token.expiresAt });
    } catch (err) {
      const message = (err as Error).message;
      deps.log(`${name}: registry auth for ${host} not refreshed: ${message}`);
      out.push({ service: name, registry: host, error: message });
    }
  }
  return out;
}

/** The same spec at its current version with the new auth; once more on a stale version. */
async function updateWithAuth(client: DockerClient, service: ServiceInfo, header: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = attempt === 0 ? service : await inspectService(client, service.ID);
    try {
      await client.json('POST', `/services/${encodeURIComponent(current.ID)}/update`, {
        query: { version: current.Version.Index },
        headers: { 'X-Registry-Auth': header },
        body: current.Spec,
      });
      return;
    } catch (err) {
      if (attempt === 0 && /out of sequence/i.test((err as Error).message)) continue;
      throw err;
    }
  }
}

export const MIN_REFRESH_MS = 5_000;
export const MAX_REFRESH_MS = 6 * 3600_000;
const RETRY_MS = 30_000;

/**
 * When to refresh next: halfway to the earliest expiry sent (a 12-hour ECR token: every 6 hours),
 * within [MIN_REFRESH_MS, MAX_REFRESH_MS]. After a failure, sooner: a quarter of the time the token
 * the service still holds has left (known: the expiries sent before), at most RETRY_MS.
 */
export function nextRefreshIn(
  results: RegistryAuthResult[],
  now: number,
  known: ReadonlyMap<string, number> = new Map(),
): number {
  const expiries = results.filter((r) => r.expiresAt !== undefined).map((r) => r.expiresAt as number);
  let wait = expiries.length > 0 ? (Math.min(...expiries) - now) / 2 : MAX_REFRESH_MS;
  for (const r of results.filter((x) => x.error)) {
    const held = known.get(r.service);
    wait = Math.min(wait, RETRY_MS, held !== undefined ? (held - now) / 4 : RETRY_MS);
  }
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, wait));
}

/** Refreshes now and then again before each token's half-life, until closed. */
export function startRegistryAuthRefresher(deps: RegistryAuthDeps, names: string[] = []): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const now = deps.now ?? Date.now;
  /** per service, when the token it last got expires */
  const known = new Map<string, number>();
  const run = (): void => {
    void refreshRegistryAuth(deps, names)
      .catch((err: Error): RegistryAuthResult[] => {
        deps.log(`registry auth: ${err.message}`);
        return [{ service: '*', registry: '*', error: err.message }];
      })
      .then((results) => {
        for (const r of results) if (r.expiresAt !== undefined) known.set(r.service, r.expiresAt);
        if (closed) return;
        const wait = nextRefreshIn(results, now(), known);
        deps.log(`registry auth: next refresh in ${Math.round(wait / 1000)} s`);
        // a live timer: it is what keeps `keyless swarm registry-auth` running between refreshes
        timer = setTimeout(run, wait);
      });
  };
  run();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}
