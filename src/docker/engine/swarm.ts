// Typed Engine API calls for Swarm: secrets, services, tasks. Shapes follow the Engine API swagger
// (only the fields keyless reads or writes are typed; the rest of a spec is carried through untouched).
import type { DockerClient } from './client.js';

export interface SecretSummary {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string> };
  CreatedAt?: string;
}

export interface SecretReference {
  File?: { Name: string; UID?: string; GID?: string; Mode?: number };
  SecretID: string;
  SecretName: string;
}

export interface ContainerSpec {
  Image?: string;
  Env?: string[];
  Labels?: Record<string, string>;
  Secrets?: SecretReference[];
  [key: string]: unknown;
}

export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: { ContainerSpec: ContainerSpec; ForceUpdate?: number; [key: string]: unknown };
  UpdateConfig?: { Parallelism?: number; Order?: 'stop-first' | 'start-first'; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ServiceInfo {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpec;
}

export interface TaskInfo {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  DesiredState: string;
  Status: { State: string; ContainerStatus?: { ContainerID?: string } };
  Spec: { ContainerSpec: ContainerSpec };
  NetworksAttachments?: { Addresses?: string[]; Network?: { Spec?: { Name?: string } } }[];
}

const filters = (f: Record<string, string[]>): string => JSON.stringify(f);

export async function swarmState(client: DockerClient): Promise<string> {
  const info = await client.json<{ Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } }>(
    'GET',
    '/info',
  );
  return info.Swarm?.LocalNodeState ?? 'inactive';
}

export function listSecrets(client: DockerClient, labelFilters: string[] = []): Promise<SecretSummary[]> {
  return client.json<SecretSummary[]>('GET', '/secrets', {
    query: labelFilters.length > 0 ? { filters: filters({ label: labelFilters }) } : {},
  });
}

export async function createSecret(
  client: DockerClient,
  name: string,
  data: Buffer,
  labels: Record<string, string>,
): Promise<string> {
  const r = await client.json<{ ID: string }>('POST', '/secrets/create', {
    body: { Name: name, Labels: labels, Data: data.toString('base64') },
  });
  return r.ID;
}

export async function removeSecret(client: DockerClient, id: string): Promise<void> {
  await client.json('DELETE', `/secrets/${encodeURIComponent(id)}`);
}

export function inspectService(client: DockerClient, nameOrId: string): Promise<ServiceInfo> {
  return client.json<ServiceInfo>('GET', `/services/${encodeURIComponent(nameOrId)}`);
}

export function listServices(client: DockerClient, labelFilters: string[] = []): Promise<ServiceInfo[]> {
  return client.json<ServiceInfo[]>('GET', '/services', {
    query: labelFilters.length > 0 ? { filters: filters({ label: labelFilters }) } : {},
  });
}

/** One service update with the whole spec at the version read (a stale index fails: "update out of sequence"). */
export async function updateService(
  client: DockerClient,
  service: ServiceInfo,
  spec: ServiceSpec,
): Promise<void> {
  await client.json('POST', `/services/${encodeURIComponent(service.ID)}/update`, {
    query: { version: service.Version.Index, registryAuthFrom: 'spec' },
    body: spec,
  });
}

export function listTasks(client: DockerClient, serviceId: string): Promise<TaskInfo[]> {
  return client.json<TaskInfo[]>('GET', '/tasks', { query: { filters: filters({ service: [serviceId] }) } });
}
