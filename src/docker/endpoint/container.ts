// The endpoint container: one per engine (name keyless-endpoint, label keyless.endpoint=1) at
// 169.254.170.2 on the keyless network. Created, started again when it died, and recreated when its
// image or settings change; the settings file (with the channel secret) is copied in through the
// engine's archive API before start, so nothing secret is in its env, command line or labels.
import { createHash } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import tar from 'tar-stream';
import { KeylessError } from '../../errors.js';
import { readBody, type DockerClient } from '../engine/index.js';
import type { RelaySettings } from '../../endpoint/relay.js';
import { ENDPOINT_DIR, type EndpointImage } from './image.js';

export const ENDPOINT_NAME = 'keyless-endpoint';
export const ENDPOINT_LABEL = 'keyless.endpoint';
export const ENDPOINT_CONFIG_LABEL = 'keyless.endpoint.config';
export const ENDPOINT_CHANNEL_LABEL = 'keyless.endpoint.channel';
/** which keyless server the endpoint serves: a digest of host, uid and KEYLESS_HOME, and words for people */
export const ENDPOINT_OWNER_LABEL = 'keyless.endpoint.owner';
export const ENDPOINT_OWNER_NAME_LABEL = 'keyless.endpoint.owner.name';
/** how the relay logs its channel's health (src/endpoint/relay.ts); only changes are logged */
const CHANNEL_UP = /^channel to the host up\b/;
const CHANNEL_DOWN = /^channel down\b/;
/** the relay pings the host every 2 s: a server that just died shows as down after this long */
const OWNER_RECHECK_MS = 2_500;
/** where the host folder holding the channel socket is mounted */
export const CHANNEL_MOUNT = '/run/keyless-host';

export type EndpointChannel =
  { kind: 'unix'; dir: string; socketName: string } | { kind: 'tcp'; host: string; port: number };

export interface EndpointSpec {
  network: string;
  /** the endpoint's address on the network (169.254.170.2) */
  address: string;
  channel: EndpointChannel;
  secret: string;
  image: EndpointImage;
  /** uid:gid the relay runs as; undefined = root (rootless engines: the user itself) */
  user?: string;
  /** e.g. host.docker.internal:host-gateway */
  extraHosts?: string[];
  /** the keyless server it serves (see endpointOwner) */
  owner?: { id: string; name: string };
}

export interface EndpointState {
  id: string;
  running: boolean;
  action: 'running' | 'started' | 'created' | 'recreated';
}

export interface ContainerInspect {
  Id: string;
  State?: { Running?: boolean; Status?: string };
  Config?: { Labels?: Record<string, string> };
}

/** Who this server is, for the endpoint's owner labels: nothing secret (a user name, a host, a path). */
export function endpointOwner(serverDir: string): { id: string; name: string } {
  const uid = process.getuid?.() ?? 0;
  let user = `uid ${uid}`;
  try {
    user = `${userInfo().username} (uid ${uid})`;
  } catch {
    // no passwd entry (a container): the uid alone
  }
  const home = dirname(serverDir);
  return {
    id: createHash('sha256').update(`${hostname()}\0${uid}\0${home}`).digest('hex').slice(0, 16),
    name: `${user} on ${hostname()}, KEYLESS_HOME ${home}`,
  };
}

/**
 * The words naming the other keyless server an endpoint container was made for, when it was made for
 * another one than `owner` (undefined: ours, or made before owners were labelled).
 */
export function otherOwner(c: ContainerInspect, owner: string): string | undefined {
  const labels = c.Config?.Labels ?? {};
  const theirs = labels[ENDPOINT_OWNER_LABEL];
  if (theirs === undefined || theirs === owner) return undefined;
  return labels[ENDPOINT_OWNER_NAME_LABEL] ?? 'another keyless server';
}

export function describeChannel(c: EndpointChannel): string {
  return c.kind === 'unix' ? `unix:${c.dir}/${c.socketName}` : `tcp:${c.host}:${c.port}`;
}

export function relaySettings(spec: EndpointSpec): RelaySettings {
  return {
    channel:
      spec.channel.kind === 'unix'
        ? { socketPath: `${CHANNEL_MOUNT}/${spec.channel.socketName}` }
        : { host: spec.channel.host, port: spec.channel.port },
    secret: spec.secret,
    listen: { host: '0.0.0.0', port: 80 },
  };
}

/** A digest of everything the container is made from (the secret only as a hash of it). */
export function endpointConfigHash(spec: EndpointSpec): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        network: spec.network,
        address: spec.address,
        channel: spec.channel,
        secret: createHash('sha256').update(spec.secret).digest('hex'),
        image: spec.image.ref,
        entrypoint: spec.image.entrypoint,
        user: spec.user ?? '',
        extraHosts: spec.extraHosts ?? [],
        owner: spec.owner?.id ?? '',
        v: 2,
      }),
    )
    .digest('hex')
    .slice(0, 32);
}

export async function inspectEndpoint(client: DockerClient): Promise<ContainerInspect | undefined> {
  try {
    return await client.json<ContainerInspect>('GET', `/containers/${ENDPOINT_NAME}/json`);
  } catch (err) {
    if ((err as { code?: string }).code === 'DOCKER_NOT_FOUND') return undefined;
    throw err;
  }
}

/**
 * Removes the container and waits (bounded) until its name is free again. With `owner`, only a
 * container of that owner (or one made before owners were labelled): a server that stops never
 * removes another keyless server's endpoint.
 */
export async function removeEndpoint(client: DockerClient, owner?: string): Promise<boolean> {
  let target = ENDPOINT_NAME;
  if (owner !== undefined) {
    const have = await inspectEndpoint(client);
    if (!have || otherOwner(have, owner) !== undefined) return false;
    target = have.Id;
  }
  try {
    await client.json('DELETE', `/containers/${target}`, { query: { force: 1 } });
  } catch (err) {
    if ((err as { code?: string }).code === 'DOCKER_NOT_FOUND') return false;
    if (!/already in progress/i.test((err as Error).message)) throw err;
  }
  for (let i = 0; i < 100 && (await inspectEndpoint(client)) !== undefined; i++)
    await new Promise((r) => setTimeout(r, 100));
  return true;
}

function settingsArchive(spec: EndpointSpec): tar.Pack {
  const [uid, gid] = (spec.user ?? '0:0').split(':').map(Number);
  const pack = tar.pack();
  pack.entry(
    { name: 'channel.json', mode: 0o400, uid: uid ?? 0, gid: gid ?? 0 },
    JSON.stringify(relaySettings(spec)),
  );
  pack.finalize();
  return pack;
}

/** Creates the container (not started). Throws the engine's error (e.g. a bind source it cannot see). */
async function createEndpoint(client: DockerClient, spec: EndpointSpec): Promise<string> {
  const hostConfig: Record<string, unknown> = {
    NetworkMode: spec.network,
    RestartPolicy: { Name: 'unless-stopped' },
    CapDrop: ['ALL'],
    CapAdd: spec.user ? [] : ['NET_BIND_SERVICE'],
    SecurityOpt: ['no-new-privileges'],
    Memory: 256 * 1024 * 1024,
    PidsLimit: 64,
    Init: false,
    LogConfig: { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } },
  };
  // a non-root relay binds port 80 in its own network namespace
  if (spec.user) hostConfig.Sysctls = { 'net.ipv4.ip_unprivileged_port_start': '0' };
  if (spec.channel.kind === 'unix')
    hostConfig.Mounts = [{ Type: 'bind', Source: spec.channel.dir, Target: CHANNEL_MOUNT, ReadOnly: true }];
  if (spec.extraHosts?.length) hostConfig.ExtraHosts = spec.extraHosts;
  const created = await client.json<{ Id: string }>('POST', '/containers/create', {
    query: { name: ENDPOINT_NAME },
    body: {
      Image: spec.image.ref,
      Entrypoint: spec.image.entrypoint,
      Cmd: [`${ENDPOINT_DIR}/channel.json`],
      ...(spec.user ? { User: spec.user } : {}),
      Labels: {
        [ENDPOINT_LABEL]: '1',
        [ENDPOINT_CONFIG_LABEL]: endpointConfigHash(spec),
        [ENDPOINT_CHANNEL_LABEL]: describeChannel(spec.channel),
        ...(spec.owner
          ? { [ENDPOINT_OWNER_LABEL]: spec.owner.id, [ENDPOINT_OWNER_NAME_LABEL]: spec.owner.name }
          : {}),
      },
      HostConfig: hostConfig,
      NetworkingConfig: {
        EndpointsConfig: { [spec.network]: { IPAMConfig: { IPv4Address: spec.address } } },
      },
    },
  });
  try {
    const res = await client.request('PUT', `/containers/${created.Id}/archive`, {
      query: { path: ENDPOINT_DIR },
      headers: { 'Content-Type': 'application/x-tar' },
      body: settingsArchive(spec),
    });
    const body = await readBody(res);
    if ((res.statusCode ?? 500) >= 400)
      throw new KeylessError(
        'ENDPOINT_CONTAINER',
        `cannot copy the endpoint's settings into it: ${body.toString('utf8').slice(0, 300)}`,
      );
  } catch (err) {
    await removeEndpoint(client).catch(() => undefined);
    throw err;
  }
  return created.Id;
}

async function start(client: DockerClient, id: string): Promise<void> {
  try {
    await client.json('POST', `/containers/${id}/start`);
  } catch (err) {
    const msg = (err as Error).message;
    if (/address already in use|Address already in use/.test(msg))
      throw new KeylessError(
        'ENDPOINT_ADDRESS_TAKEN',
        `the endpoint container cannot take its address on the keyless network: ${msg}. Another container holds 169.254.170.2 (docker network inspect keyless).`,
      );
    throw err;
  }
}

/** Makes sure the endpoint container exists with this spec and runs. */
export async function ensureEndpointContainer(
  client: DockerClient,
  spec: EndpointSpec,
): Promise<EndpointState> {
  const want = endpointConfigHash(spec);
  const have = await inspectEndpoint(client);
  if (have && have.Config?.Labels?.[ENDPOINT_CONFIG_LABEL] === want) {
    if (have.State?.Running) return { id: have.Id, running: true, action: 'running' };
    try {
      await start(client, have.Id);
      return { id: have.Id, running: true, action: 'started' };
    } catch (err) {
      // being removed, or dead: make a new one below
      if (!/marked for removal|No such container|is dead|removal in progress/i.test((err as Error).message))
        throw err;
    }
  }
  if (have) {
    if (have.Config?.Labels?.[ENDPOINT_LABEL] !== '1')
      throw new KeylessError(
        'ENDPOINT_NAME_TAKEN',
        `a container named ${ENDPOINT_NAME} exists that keyless did not make. Rename or remove it (docker rm -f ${ENDPOINT_NAME}).`,
      );
    await refuseLiveOwner(client, have, spec);
    await removeEndpoint(client);
  }
  const id = await createEndpoint(client, spec);
  await start(client, id);
  return { id, running: true, action: have ? 'recreated' : 'created' };
}

/**
 * Another keyless server's endpoint (another user, another KEYLESS_HOME) is not taken over while that
 * server answers it: the engine has one 169.254.170.2, and taking it would cut that server's containers
 * off (two CI runners on one engine would take it from each other at every run). Its relay's log says
 * whether its channel is up; a server that stopped or died leaves it down, and then it is taken over.
 */
async function refuseLiveOwner(
  client: DockerClient,
  have: ContainerInspect,
  spec: EndpointSpec,
): Promise<void> {
  const who = spec.owner ? otherOwner(have, spec.owner.id) : undefined;
  if (who === undefined || !have.State?.Running) return;
  const up = async (): Promise<boolean> => {
    const lines = (await endpointLogTail(client, 50)).split('\n').map((l) => l.trim());
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i] as string;
      if (CHANNEL_UP.test(l)) return true;
      if (CHANNEL_DOWN.test(l)) return false;
    }
    return false;
  };
  if (!(await up())) return;
  await new Promise((r) => setTimeout(r, OWNER_RECHECK_MS));
  if (!(await up())) return;
  throw new KeylessError(
    'ENDPOINT_IN_USE',
    `the endpoint container ${ENDPOINT_NAME} (169.254.170.2 on this engine) serves another keyless server, which is running: ${who}. ` +
      'An engine has one 169.254.170.2, so one keyless server serves its containers. Use that keyless (the same user and KEYLESS_HOME), ' +
      'stop it (keyless serve --stop, as its user), or run these containers on another engine (DOCKER_HOST). Once that server stops, keyless takes the endpoint over.',
  );
}

/** The last lines of the endpoint's log, for error messages. */
export async function endpointLogTail(client: DockerClient, lines = 10): Promise<string> {
  try {
    const res = await client.request('GET', `/containers/${ENDPOINT_NAME}/logs`, {
      query: { stdout: 1, stderr: 1, tail: lines },
    });
    const raw = await readBody(res);
    // demultiplex the 8-byte frame headers when there is no TTY
    const out: string[] = [];
    let i = 0;
    while (i + 8 <= raw.length && (raw[i] === 1 || raw[i] === 2)) {
      const n = raw.readUInt32BE(i + 4);
      out.push(raw.subarray(i + 8, i + 8 + n).toString('utf8'));
      i += 8 + n;
    }
    return (out.length ? out.join('') : raw.toString('utf8')).trim();
  } catch {
    return '';
  }
}
