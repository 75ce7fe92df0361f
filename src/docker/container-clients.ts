// Credential clients of containers started by `keyless run`: the container carries the SHA-256 of its
// credential id in the keyless.client label (never the id) and its role in keyless.profile /
// keyless.role-arn. The server finds a container on its first request (so a server restart loses
// nothing: running containers are re-read), binds the id to the container's address on the keyless
// network, and revokes it when the container dies or is removed (Docker events).
import { roleKey, type ClientRecord, type LeaseTable, type RoleKey } from '../leases/lease-table.js';
import type { DockerClient } from './engine/client.js';
import { CLIENT_LABEL, OIDC_LABEL, PROFILE_LABEL, ROLE_ARN_LABEL } from './run-plan.js';
import { followEngineEvents } from './engine/events.js';

/**
 * Engine lookups made while a credential request waits: bounded, so a stalled engine gives the caller
 * a 500 it can retry, not a hang (SDKs give IMDS 1 s and the ECS endpoint a few seconds anyway).
 */
export const LOOKUP_TIMEOUT_MS = 5_000;

interface ContainerSummary {
  Id: string;
  Names?: string[];
  Image?: string;
  Labels?: Record<string, string>;
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

/** Running containers matching Docker's list filters (label, network), with an optional time bound. */
function runningContainers(
  client: DockerClient,
  filters: { label: string[]; network?: string[] },
  timeoutMs?: number,
): Promise<ContainerSummary[]> {
  return client.json<ContainerSummary[]>('GET', '/containers/json', {
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    query: { filters: JSON.stringify({ ...filters, status: ['running'] }) },
  });
}

/** The container's address on the network, if it is on it. */
const addressOn = (c: ContainerSummary, network: string): string | undefined =>
  c.NetworkSettings?.Networks?.[network]?.IPAddress;

/** The role a container's keyless labels (or a start event's attributes, which carry them) name. */
function roleKeyOf(labels: Record<string, string>): RoleKey {
  return roleKey({
    profile: labels[PROFILE_LABEL],
    roleArn: labels[ROLE_ARN_LABEL],
    oidc: labels[OIDC_LABEL],
  });
}

export function containerClientResolver(
  client: DockerClient,
  table: LeaseTable,
  network: string,
): (idHash: string, address: string) => Promise<ClientRecord | undefined> {
  return async (idHash, address) => {
    // a revoked client stays refused while its container runs on
    if (!/^[0-9a-f]{64}$/.test(idHash) || table.isRevoked(idHash)) return undefined;
    const list = await runningContainers(client, { label: [`${CLIENT_LABEL}=${idHash}`] }, LOOKUP_TIMEOUT_MS);
    // the container asking, when it carries the id (replicas share it); else the first one, so the
    // handler refuses the caller as presenting another container's id
    const c = list.find((x) => addressOn(x, network) === address) ?? list[0];
    if (!c) return undefined;
    // bound to the container's own address: the id is refused from anywhere else
    return table.registerHash(idHash, roleKeyOf(c.Labels ?? {}), {
      boundAddress: addressOn(c, network) ?? 'none',
      containerId: c.Id.slice(0, 12),
      ...(c.Names?.[0] ? { containerName: c.Names[0].replace(/^\//, '') } : {}),
      ...(c.Image ? { image: c.Image } : {}),
    });
  };
}

/**
 * A known client asked from another address: does a running container carrying the same id have it?
 * (compose replicas and --scale share one id, each container at its own address)
 */
export function containerAddressConfirmer(
  client: DockerClient,
  network: string,
): (idHash: string, address: string) => Promise<boolean> {
  return async (idHash, address) => {
    if (!/^[0-9a-f]{64}$/.test(idHash)) return false;
    const list = await runningContainers(client, { label: [`${CLIENT_LABEL}=${idHash}`] }, LOOKUP_TIMEOUT_MS);
    return list.some((x) => addressOn(x, network) === address);
  };
}

/**
 * IMDS has no client id in its path: a container is known by its address on the keyless network. A
 * client the table already binds to that address answers at once while the engine's events are
 * followed (a container that stops is revoked before its address can be handed to another); while
 * they are not, the engine is asked every time, so a new container on a reused address never gets the
 * old one's role. Otherwise the engine is asked for the running keyless container with that address,
 * which is then registered as on the ECS path.
 */
export function containerAddressResolver(
  client: DockerClient,
  table: LeaseTable,
  network: string,
  byHash: (idHash: string, address: string) => Promise<ClientRecord | undefined>,
  eventsFollowed: () => boolean = () => true,
): (address: string, fresh?: boolean) => Promise<ClientRecord | undefined> {
  return async (address, fresh = false) => {
    const known = table
      .clientRecords()
      .find((r) => r.boundAddress === address || r.alsoAt?.includes(address));
    if (known && !fresh && eventsFollowed()) return known;
    const list = await runningContainers(
      client,
      { label: [CLIENT_LABEL], network: [network] },
      LOOKUP_TIMEOUT_MS,
    );
    const hash = list.find((x) => addressOn(x, network) === address)?.Labels?.[CLIENT_LABEL];
    if (known && known.idHash !== hash) table.dropHash(known.idHash, 'its address now belongs to another');
    if (!hash) return undefined;
    // a client the table already serves (this container, or another replica of it): its address is
    // added, not a new record made
    const live = table.clientRecords().find((r) => r.idHash === hash);
    if (live) {
      table.allowAddress(hash, address);
      return live;
    }
    return byHash(hash, address);
  };
}

export interface ContainerExitWatch {
  /** whether engine events are followed right now (revocations are immediate only then) */
  connected(): boolean;
  stop(): void;
}

/**
 * Follows Docker events and revokes a container's client when it dies or is removed. When the events
 * stream comes back after a loss (dockerd restarted), every client whose container no longer runs is
 * revoked: what died meanwhile is not missed.
 */
export async function watchContainerExits(
  client: DockerClient,
  table: LeaseTable,
  log: (line: string) => void,
  network?: string,
): Promise<ContainerExitWatch> {
  return followEngineEvents(client, {
    filters: { type: ['container'], event: ['start', 'die', 'destroy', 'stop'], label: [CLIENT_LABEL] },
    log,
    onEvent: (ev) => {
      if (ev.Action === 'start') {
        // the role's session is fetched now, while the container starts, so its first request is
        // answered from memory: SDKs give IMDS 1 second (botocore, the Go SDK), less than an STS call
        // may take
        const key = roleKeyOf(ev.Actor?.Attributes ?? {});
        const id = ev.Actor?.ID;
        if (!(key.profile || key.roleArn) || !id) return;
        // only a container on this server's network (another keyless on the engine has its own)
        void (async () => {
          if (network) {
            const c = await client.json<{ NetworkSettings?: { Networks?: Record<string, unknown> } }>(
              'GET',
              `/containers/${encodeURIComponent(id)}/json`,
              { timeoutMs: LOOKUP_TIMEOUT_MS },
            );
            if (!c.NetworkSettings?.Networks?.[network]) return;
          }
          await table.lease(key).get();
        })().catch(() => undefined);
        return;
      }
      // dropped, not revoked for good: the same container started again (a restart policy, docker
      // start) or another replica with the same id is served again after one engine lookup
      const hash = ev.Actor?.Attributes?.[CLIENT_LABEL];
      if (hash && table.dropHash(hash, `container ${ev.Action ?? 'stopped'}`))
        log(`dropped the credentials of container ${(ev.Actor?.ID ?? '').slice(0, 12)} (${ev.Action})`);
    },
    onConnect: async (again) => {
      if (!again) return;
      const running = await runningContainers(client, { label: [CLIENT_LABEL] });
      // each running client's addresses now (a restart may have given a container another address)
      const addresses = new Map<string, Set<string>>();
      for (const c of running) {
        const hash = c.Labels?.[CLIENT_LABEL];
        if (!hash) continue;
        const ip = network ? addressOn(c, network) : undefined;
        const set = addresses.get(hash) ?? new Set<string>();
        if (ip) set.add(ip);
        addresses.set(hash, set);
      }
      for (const r of table.clientRecords()) {
        if (!r.containerId) continue;
        const now = addresses.get(r.idHash);
        const moved =
          network !== undefined &&
          now !== undefined &&
          [r.boundAddress, ...(r.alsoAt ?? [])].some((a) => a !== undefined && a !== 'none' && !now.has(a));
        if ((!now || moved) && table.dropHash(r.idHash, now ? 'its address changed' : 'container gone'))
          log(
            `dropped the credentials of container ${r.containerId} (${now ? 'its address changed' : 'gone'} while events were not followed)`,
          );
      }
    },
  });
}
