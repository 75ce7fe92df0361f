// Pure planning for `keyless swarm secret`: the credentials file, secret names and labels, and the
// service spec with keyless's secret added, swapped or taken out. No I/O here.
import type { Credentials } from '../../sources/types.js';
import type { ContainerSpec, SecretReference, ServiceSpec } from '../engine/swarm.js';

/** Where the credentials file appears in each task: /run/secrets/<name>. */
export const SECRET_TARGET = 'keyless-aws-credentials';
export const SECRET_PATH = `/run/secrets/${SECRET_TARGET}`;

export const Label = {
  MANAGED: 'keyless.managed',
  SERVICE: 'keyless.service',
  PROFILE: 'keyless.profile',
  ROLE_ARN: 'keyless.role-arn',
  /** where the web identity token came from (formatOidcSpec: github:AUD, file:PATH, ...; never a token) */
  OIDC: 'keyless.oidc',
  VERSION: 'keyless.version',
  EXPIRATION: 'keyless.expiration',
  /** on the service: how keyless mints for it */
  SVC_PROFILE: 'keyless.secret.profile',
  SVC_ROLE_ARN: 'keyless.secret.role-arn',
  SVC_OIDC: 'keyless.secret.oidc',
  SVC_DURATION: 'keyless.secret.duration',
  SVC_ADDED_ENV: 'keyless.secret.added-env',
  SVC_PREVIOUS_ORDER: 'keyless.secret.previous-order',
} as const;

export const MANAGED_SECRET = 'secret';

export interface SecretSettings {
  profile?: string;
  roleArn?: string;
  /** a web identity source (formatOidcSpec) exchanged for roleArn, in place of a profile */
  oidc?: string;
  region?: string;
  durationSeconds: number;
  /** file mode inside the task (default 0444, as the docker CLI) */
  mode?: number;
}

/** A shared-credentials file with a [default] profile carrying a session token. */
export function renderCredentialsFile(credentials: Credentials): string {
  if (!credentials.sessionToken) {
    throw new Error('refusing to put credentials without a session token into a Swarm secret');
  }
  return (
    '[default]\n' +
    `aws_access_key_id = ${credentials.accessKeyId}\n` +
    `aws_secret_access_key = ${credentials.secretAccessKey}\n` +
    `aws_session_token = ${credentials.sessionToken}\n`
  );
}

/** keyless-<service>-v<N>, within Swarm's 64 characters, alphanumeric at both ends. */
export function secretName(service: string, version: number): string {
  const suffix = `-v${version}`;
  const base = `keyless-${service.replace(/[^a-zA-Z0-9-_.]/g, '-')}`
    .slice(0, 64 - suffix.length)
    .replace(/[-_.]+$/, '');
  return `${base}${suffix}`;
}

export function secretLabels(
  service: string,
  version: number,
  settings: SecretSettings,
  expiration: Date | undefined,
): Record<string, string> {
  const labels: Record<string, string> = {
    [Label.MANAGED]: MANAGED_SECRET,
    [Label.SERVICE]: service,
    [Label.VERSION]: String(version),
  };
  if (settings.profile) labels[Label.PROFILE] = settings.profile;
  if (settings.roleArn) labels[Label.ROLE_ARN] = settings.roleArn;
  if (settings.oidc) labels[Label.OIDC] = settings.oidc;
  if (expiration) labels[Label.EXPIRATION] = expiration.toISOString();
  return labels;
}

function envName(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

function isKeylessRef(ref: SecretReference): boolean {
  return ref.File?.Name === SECRET_TARGET;
}

/** The spec with keyless's secret set to (secretId, name): one update swaps the old version for the new. */
export function specWithSecret(
  spec: ServiceSpec,
  secret: { id: string; name: string },
  settings: SecretSettings,
): ServiceSpec {
  const cs: ContainerSpec = { ...spec.TaskTemplate.ContainerSpec };
  const labels = { ...(spec.Labels ?? {}) };
  const firstTime = labels[Label.SVC_DURATION] === undefined;
  const env = [...(cs.Env ?? [])];
  const present = new Set(env.map(envName));
  const added = new Set((labels[Label.SVC_ADDED_ENV] ?? '').split(',').filter(Boolean));
  const setEnv = (name: string, value: string): void => {
    if (present.has(name) && !added.has(name)) return; // the user's own value wins
    const i = env.findIndex((e) => envName(e) === name);
    if (i >= 0) env.splice(i, 1);
    env.push(`${name}=${value}`);
    added.add(name);
  };
  setEnv('AWS_SHARED_CREDENTIALS_FILE', SECRET_PATH);
  if (settings.region) {
    setEnv('AWS_REGION', settings.region);
    setEnv('AWS_DEFAULT_REGION', settings.region);
  }
  cs.Env = env;
  cs.Secrets = [
    ...(cs.Secrets ?? []).filter((r) => !isKeylessRef(r)),
    {
      File: { Name: SECRET_TARGET, UID: '0', GID: '0', Mode: settings.mode ?? 0o444 },
      SecretID: secret.id,
      SecretName: secret.name,
    },
  ];
  if (settings.profile) labels[Label.SVC_PROFILE] = settings.profile;
  else delete labels[Label.SVC_PROFILE];
  if (settings.roleArn) labels[Label.SVC_ROLE_ARN] = settings.roleArn;
  else delete labels[Label.SVC_ROLE_ARN];
  if (settings.oidc) labels[Label.SVC_OIDC] = settings.oidc;
  else delete labels[Label.SVC_OIDC];
  labels[Label.SVC_DURATION] = String(settings.durationSeconds);
  labels[Label.SVC_ADDED_ENV] = [...added].join(',');
  const update = { ...(spec.UpdateConfig ?? {}) };
  if (firstTime) labels[Label.SVC_PREVIOUS_ORDER] = update.Order ?? 'stop-first';
  // start-first: a new task runs before the old one stops, so a replicated service never drops to zero.
  update.Order = 'start-first';
  return {
    ...spec,
    Labels: labels,
    UpdateConfig: update,
    TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: cs },
  };
}

/** The spec with everything keyless added taken out (secret reference, env, labels, update order). */
export function specWithoutKeyless(spec: ServiceSpec): ServiceSpec {
  const labels = { ...(spec.Labels ?? {}) };
  const added = new Set((labels[Label.SVC_ADDED_ENV] ?? '').split(',').filter(Boolean));
  const previousOrder = labels[Label.SVC_PREVIOUS_ORDER];
  for (const k of Object.keys(labels)) if (k.startsWith('keyless.secret.')) delete labels[k];
  const cs: ContainerSpec = { ...spec.TaskTemplate.ContainerSpec };
  cs.Env = (cs.Env ?? []).filter((e) => !added.has(envName(e)));
  cs.Secrets = (cs.Secrets ?? []).filter((r) => !isKeylessRef(r));
  const update = { ...(spec.UpdateConfig ?? {}) };
  if (previousOrder === 'stop-first' || previousOrder === 'start-first') update.Order = previousOrder;
  return {
    ...spec,
    Labels: labels,
    UpdateConfig: update,
    TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: cs },
  };
}

/** The keyless secret reference currently in the spec, if any. */
export function currentSecretRef(spec: ServiceSpec): SecretReference | undefined {
  return (spec.TaskTemplate.ContainerSpec.Secrets ?? []).find(isKeylessRef);
}

/**
 * Whether to rotate now: with `now`, always; otherwise when less than refreshBefore is left (default:
 * half the duration, so a task started just before a rotation still has time to start and read it).
 */
export function rotationDue(
  expiration: Date | undefined,
  now: number,
  refreshBeforeMs: number,
  force: boolean,
): boolean {
  if (force || expiration === undefined) return true;
  return expiration.getTime() - now <= refreshBeforeMs;
}

const TERMINAL = new Set(['complete', 'failed', 'shutdown', 'rejected', 'orphaned', 'remove']);

/** A task still holds its secrets unless it reached a terminal state. */
export function taskHoldsSecret(
  task: { Status: { State: string }; Spec: { ContainerSpec: ContainerSpec } },
  secretId: string,
): boolean {
  if (TERMINAL.has(task.Status.State)) return false;
  return (task.Spec.ContainerSpec.Secrets ?? []).some((r) => r.SecretID === secretId);
}
