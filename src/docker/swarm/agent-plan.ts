// Pure planning for `keyless swarm attach|detach`: the label naming the role, the relative URI issued
// to the service, and the hash of its id that the agent checks (the id itself stays out of labels).
import { createHash } from 'node:crypto';
import type { ServiceSpec } from '../engine/swarm.js';

export const AGENT_CREDENTIALS_PATH = '/v1/creds/';
export const RELATIVE_URI_ENV = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI';

export const AgentLabel = {
  PROFILE: 'keyless.profile',
  ROLE_ARN: 'keyless.role-arn',
  /** sha256 of the credential id in the service's URI: "any URI not issued to that service" is refused */
  URI_SHA256: 'keyless.uri-sha256',
  ADDED_ENV: 'keyless.agent.added-env',
} as const;

export interface AttachSettings {
  profile?: string;
  roleArn?: string;
  region?: string;
  /** 256-bit random id, base64url */
  id: string;
}

export function uriIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function envName(entry: string): string {
  const i = entry.indexOf('=');
  return i < 0 ? entry : entry.slice(0, i);
}

export function specWithAgent(spec: ServiceSpec, settings: AttachSettings): ServiceSpec {
  const withoutOld = specWithoutAgent(spec);
  const labels = { ...(withoutOld.Labels ?? {}) };
  const cs = { ...withoutOld.TaskTemplate.ContainerSpec };
  const env = [...(cs.Env ?? [])];
  const present = new Set(env.map(envName));
  const added: string[] = [];
  const setEnv = (name: string, value: string, userWins: boolean): void => {
    if (userWins && present.has(name)) return;
    const i = env.findIndex((e) => envName(e) === name);
    if (i >= 0) env.splice(i, 1);
    env.push(`${name}=${value}`);
    added.push(name);
  };
  setEnv(RELATIVE_URI_ENV, `${AGENT_CREDENTIALS_PATH}${settings.id}`, false);
  if (settings.region) {
    setEnv('AWS_REGION', settings.region, true);
    setEnv('AWS_DEFAULT_REGION', settings.region, true);
  }
  cs.Env = env;
  if (settings.profile) labels[AgentLabel.PROFILE] = settings.profile;
  if (settings.roleArn) labels[AgentLabel.ROLE_ARN] = settings.roleArn;
  labels[AgentLabel.URI_SHA256] = uriIdHash(settings.id);
  labels[AgentLabel.ADDED_ENV] = added.join(',');
  return { ...withoutOld, Labels: labels, TaskTemplate: { ...withoutOld.TaskTemplate, ContainerSpec: cs } };
}

export function specWithoutAgent(spec: ServiceSpec): ServiceSpec {
  const labels = { ...(spec.Labels ?? {}) };
  const added = new Set((labels[AgentLabel.ADDED_ENV] ?? RELATIVE_URI_ENV).split(',').filter(Boolean));
  added.add(RELATIVE_URI_ENV);
  for (const k of [AgentLabel.PROFILE, AgentLabel.ROLE_ARN, AgentLabel.URI_SHA256, AgentLabel.ADDED_ENV])
    delete labels[k];
  const cs = { ...spec.TaskTemplate.ContainerSpec };
  cs.Env = (cs.Env ?? []).filter((e) => !added.has(envName(e)));
  return { ...spec, Labels: labels, TaskTemplate: { ...spec.TaskTemplate, ContainerSpec: cs } };
}
