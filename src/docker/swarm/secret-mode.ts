// `keyless swarm secret`: short-lived credentials as a versioned Swarm secret, rotated by swapping the
// version in one service update with start-first ordering. Every rotation replaces the tasks (SDKs
// read a credentials file once), which is why the agent is the preferred way.
import { KeylessError } from '../../errors.js';
import type { Credentials } from '../../sources/types.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { DockerClient } from '../engine/client.js';
import {
  createSecret,
  inspectService,
  listSecrets,
  listServices,
  listTasks,
  removeSecret,
  swarmState,
  updateService,
  type SecretSummary,
} from '../engine/swarm.js';
import {
  Label,
  MANAGED_SECRET,
  currentSecretRef,
  renderCredentialsFile,
  rotationDue,
  secretLabels,
  secretName,
  specWithSecret,
  specWithoutKeyless,
  taskHoldsSecret,
  type SecretSettings,
} from './secret-plan.js';

export const SwarmErrorCode = {
  NOT_A_MANAGER: 'SWARM_NOT_A_MANAGER',
  NOT_MANAGED: 'SWARM_SERVICE_NOT_MANAGED',
  NO_SESSION_TOKEN: 'SWARM_NO_SESSION_TOKEN',
} as const;

export interface SecretModeDeps {
  client: DockerClient;
  /** mints short-lived credentials for a service's settings */
  mint: (settings: SecretSettings) => Promise<Credentials>;
  clock?: Clock;
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  /** how long to wait for old tasks to let go of an old secret version before leaving it for later (default 5 min) */
  cleanupTimeoutMs?: number;
}

export interface RotationResult {
  service: string;
  rotated: boolean;
  secret: string;
  version: number;
  expiration?: string;
  removedSecrets: string[];
}

async function requireManager(client: DockerClient): Promise<void> {
  const state = await swarmState(client);
  if (state !== 'active') {
    throw new KeylessError(
      SwarmErrorCode.NOT_A_MANAGER,
      `the Docker engine at ${client.endpoint.description} is not in an active swarm (state: ${state}). ` +
        'Run keyless against a swarm manager (DOCKER_HOST or the docker context), or `docker swarm init`.',
    );
  }
}

async function keylessSecrets(client: DockerClient, service: string): Promise<SecretSummary[]> {
  const all = await listSecrets(client, [
    `${Label.MANAGED}=${MANAGED_SECRET}`,
    `${Label.SERVICE}=${service}`,
  ]);
  return all.filter((s) => s.Spec.Labels?.[Label.SERVICE] === service);
}

function settingsFromLabels(labels: Record<string, string>, service: string): SecretSettings {
  const duration = Number(labels[Label.SVC_DURATION]);
  if (!Number.isFinite(duration) || duration <= 0) {
    throw new KeylessError(
      SwarmErrorCode.NOT_MANAGED,
      `service ${service} has no keyless secret. Add one first: keyless swarm secret add ${service} --profile PROFILE.`,
    );
  }
  const s: SecretSettings = { durationSeconds: duration };
  if (labels[Label.SVC_PROFILE]) s.profile = labels[Label.SVC_PROFILE];
  if (labels[Label.SVC_ROLE_ARN]) s.roleArn = labels[Label.SVC_ROLE_ARN];
  if (labels[Label.SVC_OIDC]) s.oidc = labels[Label.SVC_OIDC];
  return s;
}

/** Mints, stores as the next secret version, and swaps it into the service in one update. */
async function installVersion(
  deps: SecretModeDeps,
  serviceName: string,
  settings: SecretSettings,
): Promise<RotationResult> {
  const log = deps.log ?? (() => undefined);
  const service = await inspectService(deps.client, serviceName);
  const name = service.Spec.Name;
  const existing = await keylessSecrets(deps.client, name);
  const version = Math.max(0, ...existing.map((s) => Number(s.Spec.Labels?.[Label.VERSION] ?? 0))) + 1;
  const credentials = await deps.mint(settings);
  if (!credentials.sessionToken) {
    throw new KeylessError(
      SwarmErrorCode.NO_SESSION_TOKEN,
      `the source for ${name} returned credentials without a session token; keyless never puts long-term keys in a Swarm secret.`,
    );
  }
  const secret = secretName(name, version);
  const id = await createSecret(
    deps.client,
    secret,
    Buffer.from(renderCredentialsFile(credentials)),
    secretLabels(name, version, settings, credentials.expiration),
  );
  const previous = currentSecretRef(service.Spec);
  await updateService(deps.client, service, specWithSecret(service.Spec, { id, name: secret }, settings));
  log(
    `swarm: ${name} now uses secret ${secret} (expires ${credentials.expiration?.toISOString() ?? 'unknown'})`,
  );
  await waitForRollout(deps, service.ID, name, id);
  const removedSecrets = await removeUnused(deps, service.ID, name, id, previous?.SecretID);
  return {
    service: name,
    rotated: true,
    secret,
    version,
    ...(credentials.expiration ? { expiration: credentials.expiration.toISOString() } : {}),
    removedSecrets,
  };
}

/** Waits until every task meant to run holds the new secret and runs (bounded by cleanupTimeoutMs). */
async function waitForRollout(
  deps: SecretModeDeps,
  serviceId: string,
  serviceName: string,
  secretId: string,
): Promise<void> {
  const replicas = (await inspectService(deps.client, serviceId)).Spec.Mode as
    { Replicated?: { Replicas?: number } } | undefined;
  const expected = replicas?.Replicated?.Replicas;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (deps.cleanupTimeoutMs ?? 5 * 60_000);
  for (;;) {
    const wanted = (await listTasks(deps.client, serviceId)).filter((t) => t.DesiredState === 'running');
    const countOk = expected === undefined ? wanted.length > 0 : wanted.length === expected;
    if (countOk && wanted.every((t) => t.Status.State === 'running' && taskHoldsSecret(t, secretId))) return;
    if (Date.now() > deadline) {
      deps.log?.(`swarm: the rollout of ${serviceName} has not converged yet; continuing`);
      return;
    }
    await sleep(500);
  }
}

/** Deletes keyless's old versions for a service once no task holds them (waits for the previous one). */
async function removeUnused(
  deps: SecretModeDeps,
  serviceId: string,
  serviceName: string,
  keepId: string,
  waitFor: string | undefined,
): Promise<string[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + (deps.cleanupTimeoutMs ?? 5 * 60_000);
  const removed: string[] = [];
  for (;;) {
    const tasks = await listTasks(deps.client, serviceId);
    const secrets = (await keylessSecrets(deps.client, serviceName)).filter((s) => s.ID !== keepId);
    let waiting = false;
    for (const s of secrets) {
      if (tasks.some((t) => taskHoldsSecret(t, s.ID))) {
        if (s.ID === waitFor) waiting = true;
        continue;
      }
      try {
        await removeSecret(deps.client, s.ID);
        removed.push(s.Spec.Name);
      } catch (err) {
        deps.log?.(`swarm: could not remove ${s.Spec.Name} yet: ${(err as Error).message}`);
        if (s.ID === waitFor) waiting = true;
      }
    }
    if (!waiting) return removed;
    if (Date.now() > deadline) {
      deps.log?.(`swarm: tasks of ${serviceName} still hold an old secret; the next rotate removes it`);
      return removed;
    }
    await sleep(500);
  }
}

export async function addSecret(
  deps: SecretModeDeps,
  service: string,
  settings: SecretSettings,
): Promise<RotationResult> {
  await requireManager(deps.client);
  return installVersion(deps, service, settings);
}

export interface RotateOptions {
  /** rotate regardless of expiry */
  force?: boolean;
  /** rotate when less than this is left (default: half the session duration) */
  refreshBeforeMs?: number;
  region?: string;
}

/** Rotates the named services, or every service with a keyless secret. */
export async function rotateSecrets(
  deps: SecretModeDeps,
  services: string[],
  options: RotateOptions = {},
): Promise<RotationResult[]> {
  await requireManager(deps.client);
  const clock = deps.clock ?? systemClock;
  const targets =
    services.length > 0
      ? services
      : (await listServices(deps.client, [Label.SVC_DURATION])).map((s) => s.Spec.Name);
  const results: RotationResult[] = [];
  for (const name of targets) {
    const service = await inspectService(deps.client, name);
    const labels = service.Spec.Labels ?? {};
    const settings = settingsFromLabels(labels, name);
    if (options.region) settings.region = options.region;
    const ref = currentSecretRef(service.Spec);
    const current = ref
      ? (await keylessSecrets(deps.client, service.Spec.Name)).find((s) => s.ID === ref.SecretID)
      : undefined;
    const expiresLabel = current?.Spec.Labels?.[Label.EXPIRATION];
    const expiration = expiresLabel ? new Date(expiresLabel) : undefined;
    const refreshBefore = options.refreshBeforeMs ?? (settings.durationSeconds * 1000) / 2;
    if (!rotationDue(expiration, clock.now(), refreshBefore, options.force ?? false)) {
      results.push({
        service: service.Spec.Name,
        rotated: false,
        secret: current?.Spec.Name ?? '',
        version: Number(current?.Spec.Labels?.[Label.VERSION] ?? 0),
        ...(expiresLabel ? { expiration: expiresLabel } : {}),
        removedSecrets: await removeUnused(
          deps,
          service.ID,
          service.Spec.Name,
          ref?.SecretID ?? '',
          undefined,
        ),
      });
      continue;
    }
    results.push(await installVersion(deps, name, settings));
  }
  return results;
}

/** Takes away everything keyless added to a service, then its secrets once no task holds them. */
export async function removeSecrets(deps: SecretModeDeps, serviceName: string): Promise<string[]> {
  await requireManager(deps.client);
  const service = await inspectService(deps.client, serviceName);
  const ref = currentSecretRef(service.Spec);
  const hasLabels = Object.keys(service.Spec.Labels ?? {}).some((k) => k.startsWith('keyless.secret.'));
  if (ref || hasLabels) await updateService(deps.client, service, specWithoutKeyless(service.Spec));
  return removeUnused(deps, service.ID, service.Spec.Name, '', ref?.SecretID);
}
