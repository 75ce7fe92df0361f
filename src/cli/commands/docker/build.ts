// `keyless build`: docker build with BuildKit and short-lived credentials as the `aws` secret, then a
// scan of the new image for the minted key.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadEnv, nonEmpty, type KeylessEnv } from '../../../config/env.js';
import {
  buildkitMode,
  credentialsFileText,
  dockerfileOf,
  mountsAwsSecret,
  SECRET_MOUNT_LINE,
} from '../../../docker/build-plan.js';
import { scanImage } from '../../../docker/build-scan.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import { KeylessError, usageError } from '../../../errors.js';
import { createCredentialSource, webIdentityFromEnv, type CredentialSource } from '../../../sources/index.js';
import { oidcSpecFromFlags } from '../../../sources/oidc/index.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { BuildFlags } from '../docker.js';

/** Asks the docker CLI for its client version and whether buildx is installed. */
export function probeDockerCli(cli: string, env: KeylessEnv): { version: string; buildx: boolean } {
  const v = spawnSync(cli, ['version', '--format', '{{.Client.Version}}'], {
    encoding: 'utf8',
    env: { ...env.vars },
  });
  if (v.error)
    throw new KeylessError(
      'DOCKER_CLI',
      `cannot run the docker CLI "${cli}": ${v.error.message}. Install it or set KEYLESS_DOCKER.`,
    );
  const bx = spawnSync(cli, ['buildx', 'version'], { stdio: 'ignore', env: { ...env.vars } });
  return { version: v.stdout.trim().split('\n')[0] ?? '', buildx: bx.status === 0 };
}

/** The build itself, with an injectable credential source (tests use an STS source against moto). */
export async function runBuildWith(
  args: string[],
  env: KeylessEnv,
  source: CredentialSource,
): Promise<ExitCode> {
  const cli = nonEmpty(env.vars.KEYLESS_DOCKER) ?? 'docker';
  const probe = probeDockerCli(cli, env);
  const mode = buildkitMode(cli, probe.version, probe.buildx);
  const where = dockerfileOf(args);
  const dockerfile = where.dockerfile
    ? resolve(where.dockerfile)
    : where.context
      ? join(resolve(where.context), 'Dockerfile')
      : undefined;
  if (dockerfile && existsSync(dockerfile) && !mountsAwsSecret(readFileSync(dockerfile, 'utf8')))
    output.warn(
      `${dockerfile} does not mount the aws secret; a step that needs AWS uses:\n  ${SECRET_MOUNT_LINE}`,
    );
  const creds = await source();
  const dir = await mkdtemp(join(tmpdir(), 'keyless-build-')); // 0700
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.kill(process.pid, sig);
  };
  try {
    const secretFile = join(dir, 'credentials');
    await writeFile(secretFile, credentialsFileText(creds), { mode: 0o600 });
    const iidFile = join(dir, 'iid');
    const ours = ['--secret', `id=aws,src=${secretFile}`, '--iidfile', iidFile];
    const cmdArgs =
      mode === 'buildx' ? ['buildx', 'build', '--load', ...ours, ...args] : ['build', ...ours, ...args];
    const childEnv = { ...env.vars, ...(mode === 'legacy' ? { DOCKER_BUILDKIT: '1' } : {}) };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const status = await new Promise<number>((res, rej) => {
      const child = spawn(cli, cmdArgs, { stdio: 'inherit', env: childEnv });
      child.on('error', (err) =>
        rej(
          new KeylessError(
            'DOCKER_CLI',
            `cannot run the docker CLI "${cli}": ${err.message}. Install it or set KEYLESS_DOCKER.`,
          ),
        ),
      );
      child.on('exit', (code, signal) => res(code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)));
    });
    if (status !== 0) return status as ExitCode;
    const imageId = (await readFile(iidFile, 'utf8').catch(() => '')).trim();
    if (!imageId) {
      output.warn(
        'the build produced no image id (an --output other than an image?); the image was not scanned.',
      );
      return 0;
    }
    const needles = [creds.secretAccessKey, creds.sessionToken]
      .filter((s): s is string => !!s)
      .map((s) => Buffer.from(s));
    const hits = await scanImage(dockerClientFromEnv(env), imageId, needles);
    if (hits.length > 0)
      throw new KeylessError(
        'BUILD_SECRET_IN_IMAGE',
        `the image ${imageId} holds the build's AWS secret (in ${hits.join(', ')}): a step copied /root/.aws/credentials into a layer. Remove that step, delete the image (docker rmi ${imageId}); the credentials expire on their own.`,
        { exitCode: 1 },
      );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
    process.off('exit', cleanup);
  }
}

export async function runBuild(args: string[], flags: BuildFlags): Promise<ExitCode> {
  if (args.length === 0)
    throw usageError('keyless build needs docker build arguments: keyless build --profile P -- -t IMAGE .');
  const env = loadEnv();
  const oidc = oidcSpecFromFlags(flags);
  if (oidc && flags.profile) throw usageError('--oidc takes the place of --profile: give one of them.');
  const profile =
    flags.profile ??
    (flags.roleArn || oidc
      ? undefined
      : (env.awsProfile ?? (webIdentityFromEnv(env) ? undefined : 'default')));
  const source = await createCredentialSource(
    {
      ...(profile ? { profile } : {}),
      ...(oidc ? { oidc } : {}),
      ...(flags.roleArn ? { roleArn: flags.roleArn } : {}),
    },
    { env },
  );
  try {
    return await runBuildWith(args, env, source);
  } finally {
    await source.dispose();
  }
}
