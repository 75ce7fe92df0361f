// Docker checks: engine reachable, the keyless network, the credential server, containers carrying
// AWS secrets in their env or mounts.
import type { KeylessEnv } from '../../config/env.js';
import { keylessPaths } from '../../config/paths.js';
import type { DockerClient } from '../../docker/engine/client.js';
import { DEFAULT_NETWORK } from '../../docker/network.js';
import { controlClient } from '../../server/control-socket.js';
import type { CheckResult } from '../types.js';

const SECRET_ENV = /^(AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_ACCESS_KEY_ID)=./;

export async function checkEngine(client: DockerClient): Promise<CheckResult> {
  const base = { id: 'docker-engine', title: 'Docker engine reachable' };
  try {
    const v = await client.ping();
    return { ...base, status: 'ok', found: `${client.endpoint.description}, API ${v}` };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      found: (err as Error).message,
      fix: 'start dockerd (or Docker Desktop), or set DOCKER_HOST to a running engine',
    };
  }
}

export async function checkNetwork(client: DockerClient): Promise<CheckResult> {
  const base = { id: 'keyless-network', title: `the ${DEFAULT_NETWORK.name} network` };
  try {
    const n = await client.json<{ IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] } }>(
      'GET',
      `/networks/${DEFAULT_NETWORK.name}`,
    );
    const ok = (n.IPAM?.Config ?? []).some(
      (c) => c.Subnet === DEFAULT_NETWORK.subnet && c.Gateway === DEFAULT_NETWORK.gateway,
    );
    return ok
      ? { ...base, status: 'ok', found: `${DEFAULT_NETWORK.subnet}, gateway ${DEFAULT_NETWORK.gateway}` }
      : {
          ...base,
          status: 'fail',
          found: 'exists with another subnet or gateway',
          fix: `docker network rm ${DEFAULT_NETWORK.name} (keyless run recreates it)`,
        };
  } catch {
    return { ...base, status: 'ok', found: 'not created yet (keyless run creates it)' };
  }
}

export async function checkServer(env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'credential-server', title: 'keyless credential server' };
  try {
    const s = await controlClient(keylessPaths(env.keylessHome).controlSocket).status();
    return { ...base, status: 'ok', found: `pid ${s.pid} on ${s.listen.join(', ')}, ${s.clients} client(s)` };
  } catch {
    return { ...base, status: 'ok', found: 'not running (keyless run starts it)' };
  }
}

interface ContainerInfo {
  Id: string;
  Name: string;
  Config?: { Env?: string[] };
  Mounts?: { Source?: string; Destination?: string }[];
}

/** Pure: what in a container exposes AWS secrets. */
export function containerExposures(c: ContainerInfo): string[] {
  const out: string[] = [];
  for (const e of c.Config?.Env ?? []) if (SECRET_ENV.test(e)) out.push(`env ${e.split('=')[0]}`);
  for (const m of c.Mounts ?? [])
    if (/(^|\/)\.aws(\/|$)|aws\/credentials/.test(`${m.Source ?? ''} ${m.Destination ?? ''}`))
      out.push(`mount ${m.Source} → ${m.Destination}`);
  return out;
}

export async function checkContainers(client: DockerClient): Promise<CheckResult> {
  const base = { id: 'container-secrets', title: 'running containers with AWS secrets in env or mounts' };
  let list: { Id: string }[];
  try {
    list = await client.json<{ Id: string }[]>('GET', '/containers/json');
  } catch {
    return { ...base, status: 'skip', found: 'no Docker engine' };
  }
  const bad: string[] = [];
  for (const { Id } of list) {
    const c = await client.json<ContainerInfo>('GET', `/containers/${Id}/json`).catch(() => undefined);
    if (!c) continue;
    const e = containerExposures(c);
    if (e.length > 0) bad.push(`${c.Name.replace(/^\//, '')} (${e.join(', ')})`);
  }
  if (bad.length === 0)
    return { ...base, status: 'ok', found: `${list.length} running container(s), none with AWS secrets` };
  return {
    ...base,
    status: 'fail',
    found: bad.join('; '),
    fix: 'recreate them with keyless run (no keys in env or mounts); then rotate the exposed keys (keyless rotate PROFILE)',
  };
}
