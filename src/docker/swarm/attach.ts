// `keyless swarm attach|detach`: give a service its role label and credentials URI in one update.
import { randomBytes } from 'node:crypto';
import type { DockerClient } from '../engine/client.js';
import { inspectService, updateService } from '../engine/swarm.js';
import { specWithAgent, specWithoutAgent, AgentLabel } from './agent-plan.js';

export interface AttachOptions {
  profile?: string;
  roleArn?: string;
  region?: string;
}

/** Adds the label naming the role and a fresh relative URI (256-bit id) to SERVICE; returns the service name. */
export async function attachService(
  client: DockerClient,
  service: string,
  options: AttachOptions,
): Promise<string> {
  const info = await inspectService(client, service);
  const id = randomBytes(32).toString('base64url');
  await updateService(client, info, specWithAgent(info.Spec, { ...options, id }));
  return info.Spec.Name;
}

/** Takes the label and URI out again; true when there was something to take out. */
export async function detachService(client: DockerClient, service: string): Promise<boolean> {
  const info = await inspectService(client, service);
  const attached = Object.keys(info.Spec.Labels ?? {}).some(
    (k) => k === AgentLabel.URI_SHA256 || k === AgentLabel.PROFILE || k === AgentLabel.ROLE_ARN,
  );
  if (!attached) return false;
  await updateService(client, info, specWithoutAgent(info.Spec));
  return true;
}
