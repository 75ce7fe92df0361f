// Docker checks: engine reachable, the keyless network, the credential server, containers carrying
// AWS secrets in their env or mounts.
import type { KeylessEnv } from '../../config/env.js';
import { keylessPaths } from '../../config/paths.js';
import type { DockerClient } from '../../docker/engine/client.js';
import { DEFAULT_NETWORK } from '../../docker/network.js';
import { controlClient } from '../../server/control-socket.js';
import type { ServerStatus } from '../../server/control-protocol.js';
import { nonEmpty } from '../../config/env.js';
import type { EngineInfo } from '../../docker/endpoint/image.js';
import {
  endpointOwner,
  inspectEndpoint,
  otherOwner,
  type ContainerInspect,
} from '../../docker/endpoint/container.js';
import { decideMode, modeFacts, parseEndpointMode } from '../../docker/endpoint/mode.js';
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

/** The endpoint mode auto would choose here, and why. */
export async function checkEndpointMode(client: DockerClient, env: KeylessEnv): Promise<CheckResult> {
  const base = { id: 'endpoint-mode', title: 'how containers reach the credential server' };
  try {
    const info = await client.json<EngineInfo>('GET', '/info');
    const choice = parseEndpointMode(nonEmpty(env.vars.KEYLESS_ENDPOINT));
    const d = decideMode(await modeFacts(client, info, DEFAULT_NETWORK.name));
    const mode = choice === 'auto' ? d.mode : choice;
    const found =
      choice === 'auto'
        ? `auto: ${d.mode} mode (${d.reason})`
        : `${choice} mode (KEYLESS_ENDPOINT); auto would choose ${d.mode} (${d.reason})`;
    if (choice === 'host' && d.mode === 'container')
      return {
        ...base,
        status: 'fail',
        found,
        fix: 'unset KEYLESS_ENDPOINT (or set it to container): the host mode cannot work here',
      };
    return {
      ...base,
      status: 'ok',
      found: `${found}${mode === 'container' ? '; an endpoint container at 169.254.170.2 relays' : ''}`,
    };
  } catch (err) {
    return { ...base, status: 'skip', found: (err as Error).message };
  }
}

export async function checkNetwork(client: DockerClient): Promise<CheckResult> {
  const base = { id: 'keyless-network', title: `the ${DEFAULT_NETWORK.name} network` };
  let n: { Internal?: boolean; IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] } };
  try {
    n = await client.json('GET', `/networks/${DEFAULT_NETWORK.name}`);
  } catch {
    return { ...base, status: 'ok', found: 'not created yet (keyless run creates it)' };
  }
  const c = (n.IPAM?.Config ?? []).find((x) => x.Subnet === DEFAULT_NETWORK.subnet);
  if (!c)
    return {
      ...base,
      status: 'fail',
      found: `exists without the subnet ${DEFAULT_NETWORK.subnet}`,
      fix: `docker network rm ${DEFAULT_NETWORK.name} (keyless run recreates it)`,
    };
  const mode =
    c.Gateway === DEFAULT_NETWORK.gateway
      ? 'host mode'
      : 'container mode (endpoint container at 169.254.170.2)';
  return {
    ...base,
    status: 'ok',
    found: `${DEFAULT_NETWORK.subnet}, gateway ${c.Gateway ?? '?'}: made for the ${mode}${n.Internal ? ', internal' : ''}`,
  };
}

/** The engine's endpoint container, when it runs for another keyless server (its owner's words). */
function foreignEndpoint(env: KeylessEnv, c: ContainerInspect | undefined): string | undefined {
  if (!c?.State?.Running) return undefined;
  return otherOwner(c, endpointOwner(keylessPaths(env.keylessHome).serverDir).id);
}

function endpointOf(client?: DockerClient): Promise<ContainerInspect | undefined> {
  return client ? inspectEndpoint(client).catch(() => undefined) : Promise.resolve(undefined);
}

const FOREIGN_FIX =
  'while that server runs, keyless run here stops with ENDPOINT_IN_USE (one 169.254.170.2 per engine): use that keyless, stop it (keyless serve --stop as its user), or use another engine (DOCKER_HOST)';

export async function checkServer(env: KeylessEnv, client?: DockerClient): Promise<CheckResult> {
  const base = { id: 'credential-server', title: 'keyless credential server' };
  let s: ServerStatus;
  try {
    s = await controlClient(keylessPaths(env.keylessHome).controlSocket).status();
  } catch {
    const endpoint = await endpointOf(client);
    const foreign = foreignEndpoint(env, endpoint);
    if (foreign)
      return {
        ...base,
        status: 'warn',
        found: `not running here; the engine's endpoint container serves another keyless server: ${foreign}`,
        fix: FOREIGN_FIX,
      };
    if (endpoint?.State?.Running)
      return {
        ...base,
        status: 'warn',
        found: 'not running, but an endpoint container is: containers get 502 until a server is back',
        fix: 'keyless run starts the server again (the endpoint reconnects by itself); keyless serve --stop removes the container',
      };
    return { ...base, status: 'ok', found: 'not running (keyless run starts it)' };
  }
  if (s.mode !== 'container' || !s.endpoint)
    return {
      ...base,
      status: 'ok',
      found: `pid ${s.pid}, host mode on ${s.listen.join(', ')}, ${s.clients} client(s)`,
    };
  const e = s.endpoint;
  const found = `pid ${s.pid}, container mode: endpoint ${e.container ?? '(none)'} over ${e.channel ?? '(no channel yet)'}, ${s.clients} client(s)`;
  if (e.connected) return { ...base, status: 'ok', found: `${found}, connected` };
  const foreign = foreignEndpoint(env, await endpointOf(client));
  if (foreign)
    return {
      ...base,
      status: 'fail',
      found: `${found}; the engine's endpoint container serves another keyless server: ${foreign}`,
      fix: FOREIGN_FIX,
    };
  return {
    ...base,
    status: 'fail',
    found: `${found}, NOT connected${e.refused ? ` (${e.refused} refused channel connection(s): a stale secret?)` : ''}`,
    fix: e.channel?.startsWith('tcp:')
      ? "run keyless run again (it restarts the endpoint); check that the engine's containers reach this machine at the address in --host-address / KEYLESS_HOST_ADDRESS and no firewall drops the port; docker logs keyless-endpoint"
      : 'run keyless run again (it restarts the endpoint); docker logs keyless-endpoint',
  };
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
