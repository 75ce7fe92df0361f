// Which way containers reach the credential server:
// - host: the server itself listens on 169.254.170.2:80, the keyless network's gateway. Needs root
//   (port 80) and the engine's bridges in keyless's own network namespace (a rootful local engine).
// - container: an endpoint container holds 169.254.170.2 and relays to the server (no root; rootless
//   engines; Docker Desktop and other VMs; remote engines).
import { bindable } from '../../util/local-address.js';
import { usageError } from '../../errors.js';
import type { DockerClient } from '../engine/index.js';
import type { EngineInfo } from './image.js';
import { isDockerDesktop, isRootless } from './manager.js';

export type EndpointMode = 'host' | 'container';
export type EndpointModeChoice = EndpointMode | 'auto';

export function parseEndpointMode(value: string | undefined): EndpointModeChoice {
  const v = value ?? 'auto';
  if (v === 'auto' || v === 'host' || v === 'container') return v;
  throw usageError(
    `--endpoint (or KEYLESS_ENDPOINT) must be auto, host or container, got "${v.slice(0, 40)}".`,
  );
}

export interface ModeFacts {
  root: boolean;
  /** the engine is reached over a unix socket (not tcp://) */
  localSocket: boolean;
  rootless: boolean;
  desktop: boolean;
  /** the engine's bridge interface, with its gateway address, is in this process's network namespace */
  bridgeHere: boolean;
}

/** The pure decision, with the reason (for --debug and doctor). */
export function decideMode(f: ModeFacts): { mode: EndpointMode; reason: string } {
  if (!f.root) return { mode: 'container', reason: 'not root: port 80 on the bridge needs privileges' };
  if (!f.localSocket) return { mode: 'container', reason: 'the engine is reached over the network' };
  if (f.rootless)
    return { mode: 'container', reason: "rootless engine: its bridges live in rootlesskit's namespace" };
  if (f.desktop) return { mode: 'container', reason: "Docker Desktop: the engine's bridges live in its VM" };
  if (!f.bridgeHere)
    return { mode: 'container', reason: "the engine's bridges are not in this network namespace" };
  return { mode: 'host', reason: "root, with the engine's bridges in this network namespace" };
}

interface NetworkInspect {
  IPAM?: { Config?: { Gateway?: string }[] };
}

/**
 * Whether a network's bridge is in this process's network namespace: its gateway address is one of
 * ours (a bridge with no container attached is down, so os.networkInterfaces() would not list it).
 */
async function bridgeInThisNamespace(client: DockerClient, network: string): Promise<boolean | undefined> {
  let info: NetworkInspect;
  try {
    info = await client.json<NetworkInspect>('GET', `/networks/${encodeURIComponent(network)}`);
  } catch {
    return undefined;
  }
  const gateway = info.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
  if (!gateway) return undefined;
  return bindable(gateway);
}

export async function modeFacts(client: DockerClient, info: EngineInfo, network: string): Promise<ModeFacts> {
  const bridgeHere =
    (await bridgeInThisNamespace(client, network)) ??
    (await bridgeInThisNamespace(client, 'bridge')) ??
    false;
  return {
    root: process.getuid?.() === 0,
    localSocket: client.endpoint.socketPath !== undefined,
    rootless: isRootless(info),
    desktop: isDockerDesktop(info),
    bridgeHere,
  };
}
