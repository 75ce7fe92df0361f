// Body of `keyless run`.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { loadEnv, nonEmpty, type KeylessEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { KeylessError, usageError } from '../../../errors.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import { ensureNetwork } from '../../../docker/network.js';
import { labelsIn, planRunArgs, PROFILE_LABEL, ROLE_ARN_LABEL } from '../../../docker/run-plan.js';
import { controlClient } from '../../../server/control-socket.js';
import { createCredentialSource } from '../../../sources/index.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { RunFlags } from '../docker.js';

/** Starts the credential server for containers unless one already listens on GATEWAY:80. */
export async function ensureServerDaemon(env: KeylessEnv, gateway: string, network: string): Promise<void> {
  const paths = keylessPaths(env.keylessHome);
  const ctl = controlClient(paths.controlSocket);
  const want = `${gateway}:80`;
  const up = async (): Promise<boolean> =>
    (await ctl.status().catch(() => undefined))?.listen.includes(want) ?? false;
  if (await up()) return;
  const bin = process.argv[1] as string;
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--daemon', '--listen', want, '--docker', network, '--hop-limit', '2'],
    {
      env: { ...env.vars },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await new Promise((r) => child.on('exit', r));
  for (let i = 0; i < 100; i++) {
    if (await up()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new KeylessError(
    'SERVER_NOT_RUNNING',
    `the keyless credential server did not come up on ${want}. See ${paths.serverLogFile}; it needs root for port 80 and a passphrase source it can use without a terminal (KEYLESS_PASSPHRASE, a passphrase command, or the keychain).`,
  );
}

export async function runRun(args: string[], flags: RunFlags): Promise<ExitCode> {
  if (args.length === 0)
    throw usageError('keyless run needs docker run arguments: keyless run --profile P -- IMAGE [CMD...]');
  const env = loadEnv();
  const labels = labelsIn(args);
  const profile =
    flags.profile ??
    labels[PROFILE_LABEL] ??
    (flags.roleArn || labels[ROLE_ARN_LABEL] ? undefined : (env.awsProfile ?? 'default'));
  const roleArn = flags.roleArn ?? labels[ROLE_ARN_LABEL];
  // checks the profile's configuration now rather than at the container's first request
  const source = await createCredentialSource({ ...(profile ? { profile } : {}) }, { env });
  const docker = dockerClientFromEnv(env);
  await docker.ping();
  await ensureNetwork(docker, { name: flags.networkName, subnet: flags.subnet, gateway: flags.gateway });
  await ensureServerDaemon(env, flags.gateway, flags.networkName);
  const id = randomBytes(32).toString('base64url');
  const region = env.awsRegion ?? source.region;
  const dockerArgs = planRunArgs({
    args,
    network: flags.networkName,
    relativeUri: `/v1/creds/${id}`,
    clientHash: createHash('sha256').update(id).digest('hex'),
    ...(profile && !labels[PROFILE_LABEL] ? { profile } : {}),
    ...(roleArn && !labels[ROLE_ARN_LABEL] ? { roleArn } : {}),
    ...(region ? { region } : {}),
    ...(flags.imds ? { imdsEndpoint: `http://${flags.gateway}/` } : {}),
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
