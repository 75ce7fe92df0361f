// Body of `keyless serve`: foreground server, --daemon, --stop, --status.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { constants, fchmodSync, fstatSync, openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { loadEnv, nonEmpty, type KeylessEnv } from '../../../config/env.js';
import { keylessPaths, type KeylessPaths } from '../../../config/paths.js';
import { KeylessError, usageError } from '../../../errors.js';
import { fileAuditLog } from '../../../leases/audit-log.js';
import { LeaseTable, roleKey, type RoleKey } from '../../../leases/lease-table.js';
import { startServer, parseListen, type ListenAddress } from '../../../server/index.js';
import { createHandler, type HandlerOptions } from '../../../server/handler.js';
import type { DockerClient } from '../../../docker/engine/index.js';
import type { ChannelChoice, EndpointManager } from '../../../docker/endpoint/manager.js';
import { startControlSocket, controlClient, notRunningIsAnAnswer } from '../../../server/control-socket.js';
import { ECS_FULL_PATH } from '../../../server/handler.js';
import { createStatusService } from '../../../server/status-service.js';
import { createCredentialSource, type DisposableSource } from '../../../sources/index.js';
import { SERVER_REUSE_FRACTION } from '../../../sources/run-plan.js';
import { formatOidcSpec, oidcSpecFromFlags, parseOidcSpec } from '../../../sources/oidc/index.js';
import { planWebIdentity } from '../../../sources/plan.js';
import { ensurePrivateDir, writeFileAtomic, writeUserFile } from '../../../util/atomic-file.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { ServeFlags } from '../serve.js';
import { watchHome } from '../../../util/home-watch.js';

export const DEFAULT_LISTEN = '127.0.0.1:9911';
/** the keyless network's gateway when an endpoint container holds 169.254.170.2 */
export const CONTAINER_MODE_GATEWAY = '169.254.170.1';
/** sessions handed to clients keep at least 30 minutes; ask the source for a bit more */
const MIN_VALIDITY_MS = 35 * 60_000;

export async function runServe(flags: ServeFlags): Promise<ExitCode> {
  const env = loadEnv();
  const paths = keylessPaths(env.keylessHome);
  if (flags.stop) return stopDaemon(paths.serverPidFile);
  if (flags.status) {
    const s = await controlClient(paths.controlSocket)
      .status()
      .catch((err: unknown) => {
        throw notRunningIsAnAnswer(err);
      });
    output.data(
      `pid ${s.pid}, mode ${s.mode ?? 'host'}, listening on ${s.listen.join(', ') || '(no TCP address)'}, ${s.clients} client(s)`,
    );
    if (s.endpoint) {
      const e = s.endpoint;
      output.data(
        `endpoint container ${e.container ?? '(none)'} on network ${s.network ?? '?'}: ${e.connected ? 'connected' : 'NOT connected'}` +
          `${e.lastSeenMsAgo !== undefined ? ` (last seen ${Math.round(e.lastSeenMsAgo / 1000)} s ago)` : ''}`,
      );
      output.data(
        `channel ${e.channel ?? '(none yet)'}; host side listens on ${e.listening.join(', ') || '(nothing yet)'}`,
      );
      if (e.image) output.data(`image ${e.image}`);
      if (e.refused > 0) output.data(`${e.refused} channel connection(s) refused (no or wrong secret)`);
    }
    return 0;
  }
  const hopLimit = Number(flags.hopLimit);
  if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 64)
    throw usageError(`--hop-limit must be 1 to 64, got "${flags.hopLimit}".`);
  const endpointMode = flags.endpoint ?? 'host';
  if (endpointMode !== 'host' && endpointMode !== 'container')
    throw usageError(
      `serve --endpoint must be host or container, got "${endpointMode}" (keyless run chooses for auto).`,
    );
  if (endpointMode === 'container' && !flags.docker)
    throw usageError('serve --endpoint container needs --docker NETWORK (the keyless network).');
  const channel = flags.channel ?? 'auto';
  if (!['auto', 'unix', 'tcp'].includes(channel))
    throw usageError(`--channel must be auto, unix or tcp, got "${channel}".`);
  const listen = (flags.listen ?? (endpointMode === 'container' ? [] : [DEFAULT_LISTEN])).map(parseListen);
  if (flags.daemon) {
    const code = await startDaemon(paths.serverDir, paths.serverLogFile, paths.serverPidFile);
    // the server runs; say now, not at the first client's request, if its role cannot be had
    if (flags.profile || flags.roleArn) await warnIfUnusable(paths.controlSocket, flags);
    return code;
  }
  try {
    const code = await serveForeground(flags, {
      env,
      paths,
      hopLimit,
      listen,
      endpointMode,
      channel: channel as ChannelChoice,
    });
    // a stopped server ends, even if a handle was left open by mistake (it would serve nobody, and
    // nothing could reach or stop it any more)
    setTimeout(() => process.exit(code), 2_000).unref();
    return code;
  } catch (err) {
    // a daemon that cannot listen tells the command that started it, then exits
    if (process.send && process.connected) {
      process.send({ error: (err as Error).message, code: (err as { code?: string }).code });
      process.disconnect();
    }
    setTimeout(() => process.exit(2), 200).unref();
    throw err;
  }
}

/** What runServe already parsed and checked. */
interface ServeSettings {
  env: KeylessEnv;
  paths: KeylessPaths;
  hopLimit: number;
  listen: ListenAddress[];
  endpointMode: 'host' | 'container';
  channel: ChannelChoice;
}

/**
 * Asks the started server for its default role's session (at most 5 s): a profile it cannot use (a
 * typo, keys not in the vault) is said at once, as a warning: the server keeps running and tries again
 * at each request (the keys may be added after it started).
 */
async function warnIfUnusable(socketPath: string, flags: ServeFlags): Promise<void> {
  await controlClient(socketPath)
    .checkLease(defaultRoleKey(flags), 5_000)
    .catch((err: Error) => output.warn(unusableWarning(err)));
}

/** The role the server's own clients get (--profile, --role-arn, --oidc). */
function defaultRoleKey(flags: ServeFlags): RoleKey {
  const oidc = oidcSpecFromFlags(flags);
  return roleKey({
    profile: flags.profile,
    roleArn: flags.roleArn,
    oidc: oidc ? formatOidcSpec(oidc) : undefined,
  });
}

function unusableWarning(err: Error): string {
  return `the server runs, but gives no credentials yet: ${err.message.replace(/\.?\s*$/, '')}.`;
}

/** What `serve --daemon` reports when the server it started did not come up: its error (one period), and its log. */
export function daemonStartFailure(
  outcome: { error?: string; exit?: number | null },
  logFile: string,
): string {
  const why = outcome.error?.replace(/\.+\s*$/, '') ?? `it exited with status ${outcome.exit ?? '?'}`;
  return `the background server did not start: ${why}. Its log: ${logFile}`;
}

async function serveForeground(flags: ServeFlags, settings: ServeSettings): Promise<ExitCode> {
  const { env, paths, hopLimit, listen, endpointMode, channel } = settings;
  // one server per KEYLESS_HOME: a second one would take over the control socket (a stale socket,
  // with no live server behind it, is replaced)
  const running = await controlClient(paths.controlSocket)
    .status()
    .catch(() => undefined);
  if (running)
    throw new KeylessError(
      'SERVER_ALREADY_RUNNING',
      `a keyless server already runs for ${env.keylessHome} (pid ${running.pid}, ${running.mode ?? 'host'} mode${running.listen.length ? ` on ${running.listen.join(', ')}` : ''}). Stop it with keyless serve --stop, or use another KEYLESS_HOME.`,
    );

  const oidc = oidcSpecFromFlags(flags);
  if (oidc && flags.profile) throw usageError('--oidc takes the place of --profile: give one of them.');
  const defaultKey = defaultRoleKey(flags);
  // fail now, not at the first client's request: a token source that cannot work (no role, a bad value)
  if (oidc) planWebIdentity({ spec: oidc, roleArn: flags.roleArn, roleArnFrom: '--role-arn' });
  const sources: DisposableSource[] = [];
  const table = new LeaseTable(
    (key) => {
      let source: Promise<DisposableSource> | undefined;
      return async () => {
        source ??= createCredentialSource(
          key.oidc
            ? { oidc: parseOidcSpec(key.oidc), ...(key.roleArn ? { roleArn: key.roleArn } : {}) }
            : {
                ...((key.profile ?? flags.profile) ? { profile: key.profile ?? flags.profile } : {}),
                ...(key.roleArn ? { roleArn: key.roleArn } : {}),
              },
          {
            env,
            minValidityMs: MIN_VALIDITY_MS,
            reuseFraction: SERVER_REUSE_FRACTION,
            ...(env.debug ? { log: (l: string) => output.info(`debug: ${l}`) } : {}),
          },
        ).then((s) => {
          sources.push(s);
          return s;
        });
        const current = source;
        try {
          const run = await current;
          return await run();
        } catch (err) {
          // planned afresh next time, whether the plan or the call failed: the profile may be fixed by
          // then (~/.aws/config edited, keys added to the vault), and a plan made from the old files
          // would fail the same way for ever
          if (source === current) source = undefined;
          throw err;
        }
      };
    },
    { log: (l) => output.info(l) },
  );
  const startedAt = Date.now();
  const token = randomBytes(32).toString('base64url');
  const roleName =
    (flags.roleArn ?? '').split('/').pop() || `keyless-${flags.profile ?? env.awsProfile ?? 'default'}`;
  let stopWatching: (() => void) | undefined;
  let resolveClient: Parameters<typeof startServer>[1]['resolveClient'];
  let resolveImdsClient: Parameters<typeof startServer>[1]['resolveImdsClient'];
  let confirmClientAddress: Parameters<typeof startServer>[1]['confirmClientAddress'];
  let docker: DockerClient | undefined;
  if (flags.docker) {
    const { dockerClientFromEnv } = await import('../../../docker/engine/index.js');
    const {
      containerAddressConfirmer,
      containerAddressResolver,
      containerClientResolver,
      watchContainerExits,
    } = await import('../../../docker/container-clients.js');
    docker = dockerClientFromEnv(env);
    resolveClient = containerClientResolver(docker, table, flags.docker);
    confirmClientAddress = containerAddressConfirmer(docker, flags.docker);
    const watch = await watchContainerExits(docker, table, (l) => output.info(l), flags.docker);
    stopWatching = () => watch.stop();
    // IMDS per container: each gets its own role, found by its address on the network
    if (flags.imds)
      resolveImdsClient = containerAddressResolver(docker, table, flags.docker, resolveClient, () =>
        watch.connected(),
      );
  }
  // live status (keyless status, keyless ui): fed by the audit log's batches, never per request;
  // its facts are read only once the server below listens (the control socket starts last)
  const status = createStatusService({
    table,
    defaultKey,
    facts: () => {
      const e = endpoint?.status();
      return {
        pid: process.pid,
        mode: endpointMode,
        listen: server.addresses.map((a) => `${a.host}:${a.port}`),
        startedAt,
        imds: flags.imds === true,
        ...(flags.docker ? { network: flags.docker } : {}),
        ...(e
          ? {
              endpoint: {
                connected: e.connected,
                ...(e.container ? { container: e.container } : {}),
                ...(e.channel ? { channel: e.channel } : {}),
              },
            }
          : {}),
      };
    },
    // the same path as Ctrl-C and keyless serve --stop
    stop: () => process.kill(process.pid, 'SIGTERM'),
  });
  const handlerOptions: HandlerOptions = {
    table,
    ...(resolveClient ? { resolveClient } : {}),
    ...(resolveImdsClient ? { resolveImdsClient } : {}),
    ...(confirmClientAddress ? { confirmClientAddress } : {}),
    fullUri: { token, key: defaultKey },
    // IMDS only when asked for: it has no bearer token, so anything that reaches it gets the role
    ...(flags.imds
      ? {
          imds: {
            key: defaultKey,
            roleName,
            region: flags.region ?? env.awsRegion ?? 'us-east-1',
            allowV1: flags.allowImdsv1 ?? false,
            hopLimit,
          },
        }
      : {}),
    audit: fileAuditLog(paths.auditLog, { onBatch: (records) => status.onAuditBatch(records) }),
  };
  const server = await startServer(listen, handlerOptions);
  let endpoint: EndpointManager | undefined;
  if (endpointMode === 'container' && docker && flags.docker) {
    const { EndpointManager, DEFAULT_HOST_ADDRESS } = await import('../../../docker/endpoint/manager.js');
    const relayed = createHandler({ ...handlerOptions, isContainerAddress: () => true });
    endpoint = new EndpointManager({
      docker,
      network: {
        name: flags.docker,
        subnet: flags.subnet ?? '169.254.170.0/24',
        gateway: flags.gateway ?? CONTAINER_MODE_GATEWAY,
      },
      channel,
      hostAddress: flags.hostAddress ?? nonEmpty(env.vars.KEYLESS_HOST_ADDRESS) ?? DEFAULT_HOST_ADDRESS,
      ...(flags.endpointBaseImage ? { baseImage: flags.endpointBaseImage } : {}),
      serverDir: paths.serverDir,
      endpointDir: paths.endpointDir,
      handler: relayed,
      log: (l) => output.info(l),
    });
    await endpoint.watch();
    // remembered for serve --stop, which removes the container even when this process died
    await writeFileAtomic(
      join(paths.serverDir, 'endpoint.json'),
      JSON.stringify({ dockerHost: env.vars.DOCKER_HOST ?? '', network: flags.docker }),
      { mode: 0o600 },
    );
  }
  const control = await startControlSocket(
    paths.controlSocket,
    table,
    () => ({
      pid: process.pid,
      listen: server.addresses.map((a) => `${a.host}:${a.port}`),
      mode: endpointMode,
      imds: flags.imds === true,
      ...(flags.docker ? { network: flags.docker } : {}),
      ...(endpoint ? { endpoint: endpoint.status() } : {}),
    }),
    {
      status,
      ...(endpoint ? { ensureEndpoint: () => (endpoint as EndpointManager).ensure() } : {}),
    },
  );
  if (flags.tokenFile) await writeUserFile('--token-file', resolve(flags.tokenFile), token, 0o600);
  const first = server.addresses[0];
  const base = first
    ? `http://${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}`
    : '';
  // what the user sets in clients; a daemon hands these to the command that started it (never to its log)
  const lines: string[] = [];
  if (first) {
    // Both token variants carry the same token, so which one a client prefers does not matter; many
    // clients read only the plain variable (issue 21.11, README "Which clients read which").
    lines.push(`AWS_CONTAINER_CREDENTIALS_FULL_URI=${base}${ECS_FULL_PATH}`);
    if (flags.tokenFile) lines.push(`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${resolve(flags.tokenFile)}`);
    lines.push(`AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}`);
    output.info(
      'keyless serve: set both token lines. AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is read only by botocore >= 1.32 ' +
        '(boto3, awscli v1), awscli v2 of that era and the JS SDK v3 (fromHttp); botocore 1.29, older awscli v2, ' +
        'aws-sdk-go v1 and v2 (rclone), minio-go before 7.0.69 (restic) and Ruby read only AWS_CONTAINER_AUTHORIZATION_TOKEN.',
    );
    if (flags.imds) {
      lines.push(`AWS_EC2_METADATA_SERVICE_ENDPOINT=${base}/`);
      output.warn(
        `the IMDS endpoint on ${server.addresses.map((a) => `${a.host}:${a.port}`).join(', ')} has no bearer token: any process that reaches it (every local user, as on EC2) can read the role's credentials.`,
      );
    }
  }
  const daemonChild = Boolean(process.send && process.connected);
  if (!daemonChild) for (const l of lines) output.data(l);
  output.info(
    `keyless serve: ${endpointMode === 'container' ? `container mode on network ${flags.docker ?? ''}` : ''}` +
      `${server.addresses.length ? ` listening on ${server.addresses.map((a) => `${a.host}:${a.port}`).join(', ')}` : ''} (Ctrl-C to stop)`,
  );
  if (daemonChild && process.send) {
    process.send({ ready: true, lines });
    process.disconnect();
  } else if (flags.profile || flags.roleArn || oidc) {
    // in the foreground, as serve --daemon does through the control socket: say now, not at the first
    // client's request, if the role cannot be had (the server keeps running; the keys may come later)
    table
      .lease(defaultKey)
      .check()
      .catch((err: Error) => output.warn(unusableWarning(err)));
  }
  let stopHomeWatch: (() => void) | undefined;
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
    stopHomeWatch = watchHome(env.keylessHome, [paths.controlSocket], (why) => {
      output.warn(`keyless serve: ${why}: nothing can reach or stop this server any more; stopping.`);
      done();
    });
  });
  stopHomeWatch?.();
  stopWatching?.();
  await endpoint?.close({ remove: true });
  await server.close();
  await handlerOptions.audit?.flush?.();
  status.closeSubscribers();
  control.close();
  control.closeAllConnections();
  await rm(paths.controlSocket, { force: true });
  // clean shutdown: revoke HashiCorp Vault leases
  for (const s of sources) await s.dispose().catch((err: Error) => output.warn(err.message));
  return 0;
}

/**
 * Starts the server in the background and waits until it listens: a daemon that cannot start reports
 * its own error here (exit 2) instead of lingering.
 */
async function startDaemon(dir: string, logFile: string, pidFile: string): Promise<ExitCode> {
  await ensurePrivateDir(dir);
  const args = process.argv.slice(1).filter((a) => a !== '--daemon');
  // never through a symbolic link, and only a regular file of ours
  const log = openSync(
    logFile,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  if (!fstatSync(log).isFile())
    throw new KeylessError('UNSAFE_PATH', `${logFile} is not a regular file. Move it away.`);
  fchmodSync(log, 0o600);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log, log, 'ipc'],
    env: process.env,
  });
  const outcome = await new Promise<{
    ready?: boolean;
    lines?: string[];
    error?: string;
    code?: string;
    exit?: number | null;
  }>((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise({ error: 'did not report ready within 60 s' }), 60_000);
    child.once('message', (m: { ready?: boolean; lines?: string[]; error?: string; code?: string }) => {
      clearTimeout(timer);
      resolvePromise(m);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise({ exit: code });
    });
  });
  if (!outcome.ready) {
    child.kill('SIGTERM');
    throw new KeylessError('SERVER_START_FAILED', daemonStartFailure(outcome, logFile));
  }
  child.unref();
  child.disconnect?.();
  await writeFileAtomic(pidFile, `${child.pid}\n`);
  for (const l of outcome.lines ?? []) output.data(l);
  output.info(
    `keyless serve started in the background (pid ${child.pid}, log ${logFile}); stop it with keyless serve --stop`,
  );
  return 0;
}

/** how long serve --stop waits for the server to end by itself */
const STOP_WAIT_MS = 30_000;

async function stopDaemon(pidFile: string): Promise<ExitCode> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    throw new KeylessError(
      'SERVER_NOT_RUNNING',
      'no background keyless server (no pid file). Nothing to stop.',
    );
  }
  let alive = true;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    alive = false;
    output.info(`the background server (pid ${pid}) was not running`);
  }
  const running = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  // wait for it to remove its endpoint container and sockets (bounded: an endpoint being brought back
  // is waited for up to 15 s); one that is still there then is killed, never reported as stopped
  for (let i = 0; alive && i < STOP_WAIT_MS / 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    alive = running();
  }
  if (alive) {
    output.warn(`the server (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000} s; killing it`);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; running() && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
  }
  await removeEndpointOfDeadServer(dirname(pidFile));
  await rm(pidFile, { force: true });
  output.info(`stopped keyless serve (pid ${pid})`);
  return 0;
}

/** serve --stop after the server died without cleaning up: remove its endpoint container. */
async function removeEndpointOfDeadServer(serverDir: string): Promise<void> {
  let saved: { dockerHost?: string };
  try {
    saved = JSON.parse(await readFile(join(serverDir, 'endpoint.json'), 'utf8')) as { dockerHost?: string };
  } catch {
    return;
  }
  const env = loadEnv(saved.dockerHost ? { ...process.env, DOCKER_HOST: saved.dockerHost } : process.env);
  const { dockerClientFromEnv } = await import('../../../docker/engine/index.js');
  const { removeEndpoint, endpointOwner } = await import('../../../docker/endpoint/container.js');
  // only this server's own endpoint (another keyless may hold the engine's now)
  if (await removeEndpoint(dockerClientFromEnv(env), endpointOwner(serverDir).id).catch(() => false))
    output.info('removed the endpoint container');
  await rm(join(serverDir, 'endpoint.json'), { force: true });
}
