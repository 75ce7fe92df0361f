// Keeps the endpoint container of one engine alive from inside the keyless server (the daemon): builds
// its image, opens the channel (unix socket when the engine sees this machine's files, else TCP),
// creates or starts the container, waits until it has reached the channel, and brings it back when
// the engine reports it died or was removed.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { KeylessError } from '../../errors.js';
import { bindable } from '../../util/local-address.js';
import { startChannel, type AddressedHandler, type RunningChannel } from '../../server/channel.js';
import { ensurePrivateDir, writeFileAtomic } from '../../util/atomic-file.js';
import type { DockerClient } from '../engine/index.js';
import { followEngineEvents } from '../engine/events.js';
import type { EndpointStatusWire } from '../../server/control-protocol.js';
import { ensureNetwork } from '../network.js';
import {
  describeChannel,
  ensureEndpointContainer,
  endpointOwner,
  endpointLogTail,
  inspectEndpoint,
  ENDPOINT_LABEL,
  removeEndpoint,
  type EndpointChannel,
  type EndpointSpec,
} from './container.js';
import { ensureEndpointImage, type EngineInfo, type EndpointImage } from './image.js';

export const ENDPOINT_ADDRESS = '169.254.170.2';
export const DEFAULT_HOST_ADDRESS = 'host.docker.internal';
export type ChannelChoice = 'auto' | 'unix' | 'tcp';

export interface EndpointManagerOptions {
  docker: DockerClient;
  network: { name: string; subnet: string; gateway: string };
  channel: ChannelChoice;
  hostAddress: string;
  baseImage?: string;
  /** $KEYLESS_HOME/server (secret, port) and $KEYLESS_HOME/endpoint (the mounted socket folder) */
  serverDir: string;
  endpointDir: string;
  handler: AddressedHandler;
  log: (line: string) => void;
  /** how long to wait for the container's first ping */
  readyTimeoutMs?: number;
}

/** what serve --status and the control socket report (the wire shape is the one type) */
export type EndpointStatus = EndpointStatusWire;

export function isDockerDesktop(info: EngineInfo): boolean {
  return /docker desktop/i.test(info.OperatingSystem ?? '') || info.Name === 'docker-desktop';
}

export function isRootless(info: EngineInfo): boolean {
  return (info.SecurityOptions ?? []).some((o) => o.includes('name=rootless'));
}

/** The channel secret: 32 random bytes in a 0600 file that survives restarts. */
export async function channelSecret(serverDir: string): Promise<string> {
  const file = join(serverDir, 'channel-secret');
  try {
    const s = (await readFile(file, 'utf8')).trim();
    if (/^[A-Za-z0-9_-]{43}$/.test(s)) return s;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await ensurePrivateDir(serverDir);
  const s = randomBytes(32).toString('base64url');
  await writeFileAtomic(file, s, { mode: 0o600 });
  return s;
}

interface SavedChannel {
  /** the TCP channel's port, kept so that a restarted server is reached by the same container */
  port?: number;
  /** auto mode: the unix socket did not work with this engine (do not try it again) */
  unixFailed?: boolean;
}

async function savedChannel(serverDir: string): Promise<SavedChannel> {
  try {
    const v = JSON.parse(await readFile(join(serverDir, 'channel.json'), 'utf8')) as SavedChannel;
    return {
      ...(Number.isInteger(v.port) ? { port: v.port as number } : {}),
      ...(v.unixFailed === true ? { unixFailed: true } : {}),
    };
  } catch {
    return {};
  }
}

async function saveChannel(serverDir: string, change: SavedChannel): Promise<void> {
  const v = { ...(await savedChannel(serverDir)), ...change };
  await writeFileAtomic(join(serverDir, 'channel.json'), JSON.stringify(v), { mode: 0o600 });
}

export class EndpointManager {
  private info: EngineInfo | undefined;
  private image: EndpointImage | undefined;
  private unix: RunningChannel | undefined;
  private tcp: RunningChannel | undefined;
  private current: { id: string; spec: EndpointSpec } | undefined;
  private secret: string | undefined;
  private busy: Promise<EndpointStatus> | undefined;
  private stopped = false;
  private stopEvents: (() => void) | undefined;

  constructor(private readonly o: EndpointManagerOptions) {}

  status(): EndpointStatus {
    const id = this.current?.id.slice(0, 12);
    const seen = id ? this.seenAt(id) : undefined;
    const listening: string[] = [];
    if (this.unix?.socketPath) listening.push(this.unix.socketPath);
    if (this.tcp?.tcp) listening.push(`${this.tcp.tcp.host}:${this.tcp.tcp.port}`);
    return {
      mode: 'container',
      ...(id ? { container: id } : {}),
      ...(this.image ? { image: this.image.ref } : {}),
      ...(this.current ? { channel: describeChannel(this.current.spec.channel) } : {}),
      listening,
      connected: seen !== undefined && Date.now() - seen < 10_000,
      ...(seen !== undefined ? { lastSeenMsAgo: Date.now() - seen } : {}),
      refused: (this.unix?.refused() ?? 0) + (this.tcp?.refused() ?? 0),
    };
  }

  private seenAt(shortId: string): number | undefined {
    return this.unix?.seen.get(shortId) ?? this.tcp?.seen.get(shortId);
  }

  /** Idempotent and serialised: one ensure at a time. */
  ensure(): Promise<EndpointStatus> {
    this.busy ??= this.doEnsure().finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async doEnsure(): Promise<EndpointStatus> {
    const { docker } = this.o;
    this.notStopped();
    this.info ??= await docker.json<EngineInfo>('GET', '/info');
    this.secret ??= await channelSecret(this.o.serverDir);
    await ensureNetwork(docker, this.o.network);
    this.image ??= await ensureEndpointImage(docker, this.info, {
      ...(this.o.baseImage ? { baseImage: this.o.baseImage } : {}),
      log: this.o.log,
    });
    // auto: the unix socket first, unless it already failed with this engine (then trying it again
    // would replace a working TCP endpoint container every time)
    const tryUnix =
      this.o.channel === 'unix' ||
      (this.o.channel === 'auto' &&
        docker.endpoint.socketPath !== undefined &&
        !isDockerDesktop(this.info) &&
        !(await savedChannel(this.o.serverDir)).unixFailed);
    if (tryUnix) {
      try {
        const st = await this.bringUp(await this.unixChannel(), this.o.channel === 'unix' ? 10_000 : 5_000);
        if (st.connected || this.o.channel === 'unix') return this.checked(st);
        this.o.log('the endpoint container did not reach the unix socket; using TCP instead');
      } catch (err) {
        if (
          this.o.channel === 'unix' ||
          !/bind source path|invalid mount config|no such file/i.test(String(err))
        )
          throw err;
        this.o.log(
          `the engine cannot see ${this.o.endpointDir} (another host, VM or mount namespace); using TCP`,
        );
      }
      await saveChannel(this.o.serverDir, { unixFailed: true });
      await this.unix?.close();
      this.unix = undefined;
    }
    return this.checked(await this.bringUp(await this.tcpChannel(), this.o.readyTimeoutMs ?? 10_000));
  }

  private async checked(st: EndpointStatus): Promise<EndpointStatus> {
    if (st.connected) return st;
    const tail = await endpointLogTail(this.o.docker);
    throw new KeylessError(
      'ENDPOINT_NOT_CONNECTED',
      `the endpoint container did not reach the keyless server over ${st.channel ?? 'its channel'}.` +
        (this.current?.spec.channel.kind === 'tcp'
          ? ` Check that the engine's containers reach this machine at ${this.o.hostAddress} (--host-address / KEYLESS_HOST_ADDRESS) and that no firewall drops the port.`
          : '') +
        (tail ? `\nIts log:\n${tail}` : ''),
    );
  }

  private async unixChannel(): Promise<EndpointChannel> {
    this.notStopped();
    if (!this.unix) {
      await ensurePrivateDir(this.o.endpointDir);
      this.unix = await startChannel(
        { socketPath: join(this.o.endpointDir, 'channel.sock') },
        this.secret as string,
        this.o.handler,
      );
    }
    return { kind: 'unix', dir: this.o.endpointDir, socketName: 'channel.sock' };
  }

  private async tcpChannel(): Promise<EndpointChannel> {
    this.notStopped();
    const addr = this.o.hostAddress;
    if (!this.tcp) {
      // on the address when it is one of this machine's, else loopback (Docker Desktop forwards
      // host.docker.internal there); never on every interface
      // host.docker.internal on a Linux engine maps (host-gateway) to its default bridge's gateway:
      // listen there when that address is this machine's
      const gateway =
        isIP(addr) === 0 && !isDockerDesktop(this.info ?? {}) ? await this.defaultBridgeGateway() : undefined;
      const local = (await bindable(addr))
        ? addr
        : gateway && (await bindable(gateway))
          ? gateway
          : '127.0.0.1';
      const port = (await savedChannel(this.o.serverDir)).port ?? 0;
      const open = (p: number): Promise<RunningChannel> =>
        startChannel({ tcp: { host: local, port: p } }, this.secret as string, this.o.handler);
      this.tcp = await open(port).catch((err: unknown) => {
        if (port === 0) throw err;
        this.o.log(`channel port ${port} is taken; choosing another (the endpoint container is recreated)`);
        return open(0);
      });
      await saveChannel(this.o.serverDir, { ...(this.tcp.tcp ? { port: this.tcp.tcp.port } : {}) });
    }
    return { kind: 'tcp', host: addr, port: this.tcp.tcp?.port as number };
  }

  private async defaultBridgeGateway(): Promise<string | undefined> {
    try {
      const n = await this.o.docker.json<{ IPAM?: { Config?: { Gateway?: string }[] } }>(
        'GET',
        '/networks/bridge',
      );
      return n.IPAM?.Config?.find((c) => c.Gateway)?.Gateway;
    } catch {
      return undefined;
    }
  }

  /** An ensure still running when the server stops must not open a channel or make a container. */
  private notStopped(): void {
    if (this.stopped)
      throw new KeylessError(
        'ENDPOINT_STOPPING',
        'the keyless server is stopping: no endpoint container now.',
      );
  }

  private async bringUp(channel: EndpointChannel, timeoutMs: number): Promise<EndpointStatus> {
    const info = this.info as EngineInfo;
    const rootless = isRootless(info);
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    // unix: the relay connects to a 0600 socket, so it runs as its owner (a rootless engine's root is
    // the user already); tcp: an unprivileged user
    const user =
      rootless || isDockerDesktop(info)
        ? undefined
        : channel.kind === 'unix'
          ? uid === 0
            ? undefined
            : `${uid}:${gid}`
          : '65534:65534';
    const extraHosts =
      channel.kind === 'tcp' && isIP(channel.host) === 0 && !isDockerDesktop(info)
        ? [`${channel.host}:host-gateway`]
        : [];
    const spec: EndpointSpec = {
      network: this.o.network.name,
      address: ENDPOINT_ADDRESS,
      channel,
      secret: this.secret as string,
      image: this.image as EndpointImage,
      ...(user ? { user } : {}),
      ...(extraHosts.length ? { extraHosts } : {}),
      owner: endpointOwner(this.o.serverDir),
    };
    this.notStopped();
    const state = await ensureEndpointContainer(this.o.docker, spec);
    this.current = { id: state.id, spec };
    if (state.action !== 'running')
      this.o.log(`endpoint container ${state.id.slice(0, 12)}: ${state.action}`);
    const short = state.id.slice(0, 12);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const seen = this.seenAt(short);
      if (seen !== undefined && Date.now() - seen < 10_000) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.status();
  }

  /**
   * Follows engine events: the endpoint died or was removed → bring it back (after a second). When
   * the events stream comes back after a loss (dockerd restarted), the container is checked at once.
   */
  async watch(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const later = (): void => {
      if (this.stopped || timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        if (this.stopped) return;
        void this.bringBack();
      }, 1_000);
    };
    const events = await followEngineEvents(this.o.docker, {
      filters: { type: ['container'], event: ['die', 'destroy'], label: [`${ENDPOINT_LABEL}=1`] },
      log: this.o.log,
      // only our own container's death counts (another keyless on this engine may manage its own)
      onEvent: (ev) => {
        if (ev.Actor?.ID === this.current?.id) later();
      },
      onConnect: (again) => {
        if (again) later();
      },
    });
    this.stopEvents = () => {
      if (timer) clearTimeout(timer);
      events.stop();
    };
  }

  /** After our container died or was removed: start or recreate it, unless another keyless took the name. */
  private async bringBack(): Promise<void> {
    try {
      // an ensure in flight may be replacing the container itself
      if (this.busy) await this.busy.catch(() => undefined);
      if (this.stopped) return;
      const now = await inspectEndpoint(this.o.docker);
      if (now?.Id === this.current?.id && now?.State?.Running) return;
      if (now && now.Id !== this.current?.id) {
        this.o.log(
          `the endpoint container was replaced by another keyless (${now.Id.slice(0, 12)}); leaving it alone. keyless run takes it back once that server stops.`,
        );
        return;
      }
      const st = await this.ensure();
      this.o.log(`endpoint container back (${st.container ?? '?'})`);
    } catch (err) {
      this.o.log(`cannot bring the endpoint container back: ${(err as Error).message}`);
    }
  }

  /**
   * Stops watching and closes the channel; `remove` also removes the container (serve --stop), when
   * it is this server's. An ensure in flight is waited for (bounded) and opens nothing after this:
   * before, one could reopen a channel after the server had shut down, and the process lived on.
   */
  async close(options: { remove?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.stopEvents?.();
    if (this.busy)
      await Promise.race([
        this.busy.catch(() => undefined),
        new Promise((r) => setTimeout(r, 15_000).unref()),
      ]);
    if (options.remove)
      await removeEndpoint(this.o.docker, endpointOwner(this.o.serverDir).id).catch(() => undefined);
    await this.unix?.close();
    await this.tcp?.close();
    this.unix = undefined;
    this.tcp = undefined;
  }
}
