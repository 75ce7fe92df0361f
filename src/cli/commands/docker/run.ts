// Body of `keyless run`.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { loadEnv, nonEmpty, type KeylessEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { KeylessError, usageError } from '../../../errors.js';
import { dockerClientFromEnv, type DockerClient } from '../../../docker/engine/index.js';
import type { EngineInfo } from '../../../docker/endpoint/image.js';
import { ENDPOINT_ADDRESS } from '../../../docker/endpoint/manager.js';
import {
  decideMode,
  modeFacts,
  parseEndpointMode,
  type EndpointMode,
} from '../../../docker/endpoint/mode.js';
import type { ServerStatus } from '../../../server/control-protocol.js';
import { CONTAINER_MODE_GATEWAY } from '../serve/run.js';
import { ensureNetwork } from '../../../docker/network.js';
import {
  labelsIn,
  OIDC_LABEL,
  planRunArgs,
  PROFILE_LABEL,
  ROLE_ARN_LABEL,
} from '../../../docker/run-plan.js';
import { controlClient } from '../../../server/control-socket.js';
import { createCredentialSource, webIdentityFromEnv } from '../../../sources/index.js';
import { formatOidcSpec, oidcSpecFromFlags, parseOidcSpec } from '../../../sources/oidc/index.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { EndpointOptionFlags, RunFlags } from '../docker.js';

/** keyless run's --imds too: containers also use the IMDS endpoint */
export type EndpointFlags = EndpointOptionFlags & { imds?: boolean };

/**
 * Chooses the endpoint mode, makes sure the keyless network suits it, and that a credential server
 * (and in container mode the endpoint container) serves it. Returns the mode.
 */
export async function prepareEndpoint(
  env: KeylessEnv,
  docker: DockerClient,
  flags: EndpointFlags,
): Promise<{ mode: EndpointMode; gateway: string }> {
  const choice = parseEndpointMode(flags.endpoint ?? nonEmpty(env.vars.KEYLESS_ENDPOINT));
  const channel = flags.channel ?? 'auto';
  if (!['auto', 'unix', 'tcp'].includes(channel))
    throw usageError(`--channel must be auto, unix or tcp, got "${channel.slice(0, 40)}".`);
  let mode: EndpointMode;
  if (choice === 'auto') {
    const info = await docker.json<EngineInfo>('GET', '/info');
    const decided = decideMode(await modeFacts(docker, info, flags.networkName));
    mode = decided.mode;
    if (env.debug) output.info(`debug: endpoint mode ${mode}: ${decided.reason}`);
  } else mode = choice;
  const gateway = flags.gateway ?? (mode === 'host' ? ENDPOINT_ADDRESS : CONTAINER_MODE_GATEWAY);
  if (mode === 'container' && gateway === ENDPOINT_ADDRESS)
    throw usageError(
      `in container mode the endpoint container holds ${ENDPOINT_ADDRESS}: choose another --gateway.`,
    );
  if (mode === 'host' && gateway !== ENDPOINT_ADDRESS)
    output.warn(
      `host mode with gateway ${gateway}: SDKs look for ${ENDPOINT_ADDRESS}; containers will not find the server.`,
    );
  await ensureNetwork(docker, { name: flags.networkName, subnet: flags.subnet, gateway });
  await ensureServerDaemon(env, {
    mode,
    gateway,
    network: flags.networkName,
    subnet: flags.subnet,
    channel,
    flags,
  });
  return { mode, gateway };
}

interface DaemonWanted {
  mode: EndpointMode;
  gateway: string;
  network: string;
  subnet: string;
  channel: string;
  flags: EndpointFlags;
}

/** Asks the running credential server for the role's session (see ControlClient.checkLease). */
export async function checkServerLease(
  env: KeylessEnv,
  key: { profile?: string; roleArn?: string; oidc?: string },
): Promise<void> {
  await controlClient(keylessPaths(env.keylessHome).controlSocket)
    .checkLease(key)
    .catch((err: unknown) => {
      // a server from an older keyless has no such question: nothing to check then
      if (err instanceof KeylessError && err.code === 'SERVER_CONTROL' && /unknown path/.test(err.message))
        return;
      throw err;
    });
}

/** Starts the credential server for containers unless one already serves this network this way. */
export async function ensureServerDaemon(env: KeylessEnv, want: DaemonWanted): Promise<void> {
  const paths = keylessPaths(env.keylessHome);
  const ctl = controlClient(paths.controlSocket);
  const hostListen = `${want.gateway}:80`;
  const serves = (s: ServerStatus | undefined): boolean =>
    s !== undefined &&
    (want.mode === 'host'
      ? s.listen.includes(hostListen)
      : s.mode === 'container' && s.network === want.network);
  let status = await ctl.status().catch(() => undefined);
  if (status && serves(status) && want.flags.imds && !status.imds)
    throw new KeylessError(
      'SERVER_MODE_MISMATCH',
      `the keyless server (pid ${status.pid}) serves no IMDS endpoint, which --imds needs. Stop it (keyless serve --stop); the next keyless run --imds starts one that does.`,
    );
  if (status && !serves(status) && (status.mode === 'container' || want.mode === 'container'))
    throw new KeylessError(
      'SERVER_MODE_MISMATCH',
      `a keyless server (pid ${status.pid}) already runs for this KEYLESS_HOME in ${status.mode ?? 'host'} mode` +
        `${status.network ? ` on network ${status.network}` : ''}; this needs ${want.mode} mode on ${want.network}. ` +
        'Stop it with keyless serve --stop, or pass --endpoint to match it.',
    );
  if (!serves(status)) {
    const bin = process.argv[1] as string;
    const args =
      want.mode === 'host'
        ? [
            'serve',
            '--daemon',
            '--listen',
            hostListen,
            '--docker',
            want.network,
            '--hop-limit',
            '2',
            ...(want.flags.imds ? ['--imds'] : []),
          ]
        : [
            'serve',
            '--daemon',
            '--endpoint',
            'container',
            '--docker',
            want.network,
            '--subnet',
            want.subnet,
            '--gateway',
            want.gateway,
            '--channel',
            want.channel,
            '--hop-limit',
            '2',
            ...(want.flags.imds ? ['--imds'] : []),
            ...(want.flags.hostAddress ? ['--host-address', want.flags.hostAddress] : []),
            ...(want.flags.endpointBaseImage ? ['--endpoint-base-image', want.flags.endpointBaseImage] : []),
          ];
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...env.vars },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) {
      const why = stderr.replace(/^keyless: /gm, '').trim();
      throw new KeylessError(
        'SERVER_NOT_RUNNING',
        `the keyless credential server did not start${why ? `: ${why}` : ''}` +
          (want.mode === 'host'
            ? `. Host mode needs root for port 80 on ${want.gateway}; without root use --endpoint container (auto chooses it).`
            : '') +
          ` See ${paths.serverLogFile}.`,
      );
    }
    for (let i = 0; i < 100 && !serves(status); i++) {
      status = await ctl.status().catch(() => undefined);
      if (!serves(status)) await new Promise((r) => setTimeout(r, 100));
    }
    if (!serves(status))
      throw new KeylessError(
        'SERVER_NOT_RUNNING',
        `the keyless credential server did not come up${want.mode === 'host' ? ` on ${hostListen}` : ''}. See ${paths.serverLogFile}; it needs a passphrase source it can use without a terminal (KEYLESS_PASSPHRASE, a passphrase command, or the keychain).`,
      );
  }
  if (want.mode === 'container') await ctl.ensureEndpoint();
}

export async function runRun(args: string[], flags: RunFlags): Promise<ExitCode> {
  if (args.length === 0)
    throw usageError('keyless run needs docker run arguments: keyless run --profile P -- IMAGE [CMD...]');
  const env = loadEnv();
  const labels = labelsIn(args);
  const oidcFlag = oidcSpecFromFlags(flags);
  const oidcLabel = labels[OIDC_LABEL];
  const oidc = oidcFlag ?? (oidcLabel !== undefined ? parseOidcSpec(oidcLabel) : undefined);
  const roleArn = flags.roleArn ?? labels[ROLE_ARN_LABEL];
  if (oidc && (flags.profile ?? labels[PROFILE_LABEL]))
    throw usageError('--oidc takes the place of a profile: give --oidc or --profile, not both.');
  // with neither, AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN stand for the profile, as in the SDKs
  const profile =
    flags.profile ??
    labels[PROFILE_LABEL] ??
    (roleArn || oidc ? undefined : (env.awsProfile ?? (webIdentityFromEnv(env) ? undefined : 'default')));
  // checks the profile's configuration now rather than at the container's first request
  const source = await createCredentialSource(
    oidc ? { oidc, ...(roleArn ? { roleArn } : {}) } : { ...(profile ? { profile } : {}) },
    { env },
  );
  // a web identity is tried once here, so a refused token request or a trust policy that does not
  // match is this command's error (naming what to check), not an SDK error inside the container
  if (oidc) await source();
  const docker = dockerClientFromEnv(env);
  await docker.ping();
  await prepareEndpoint(env, docker, flags);
  // the server gets the role's session now (or has it): a profile it cannot use is this command's
  // error before any container starts, and the container's first request is answered from memory
  await checkServerLease(env, {
    ...(profile ? { profile } : {}),
    ...(roleArn ? { roleArn } : {}),
    ...(oidc ? { oidc: formatOidcSpec(oidc) } : {}),
  });
  const id = randomBytes(32).toString('base64url');
  const region = env.awsRegion ?? source.region;
  const dockerArgs = planRunArgs({
    args,
    network: flags.networkName,
    relativeUri: `/v1/creds/${id}`,
    clientHash: createHash('sha256').update(id).digest('hex'),
    ...(profile && !labels[PROFILE_LABEL] ? { profile } : {}),
    ...(roleArn && !labels[ROLE_ARN_LABEL] ? { roleArn } : {}),
    ...(oidcFlag && !oidcLabel ? { oidc: formatOidcSpec(oidcFlag) } : {}),
    ...(region ? { region } : {}),
    ...(flags.imds ? { imdsEndpoint: `http://${ENDPOINT_ADDRESS}/` } : {}),
  });
  const cli = nonEmpty(env.vars.KEYLESS_DOCKER) ?? 'docker';
  const status = await new Promise<number>((resolve, reject) => {
    const child = spawn(cli, dockerArgs, { stdio: 'inherit', env: { ...env.vars } });
    child.on('error', (err) =>
      reject(
        new KeylessError(
          'DOCKER_CLI',
          `cannot run the docker CLI "${cli}": ${err.message}. Install it or set KEYLESS_DOCKER.`,
        ),
      ),
    );
    child.on('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)),
    );
  });
  if (status === 125) output.warn('docker run failed before the container started (see its message above).');
  return status as ExitCode;
}
