// `keyless compose`: runs docker compose with an override that gives the services asking for AWS
// access the keyless network, a credential URI and the watcher's labels (see src/docker/compose-override.ts).
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadEnv, nonEmpty, type KeylessEnv } from '../../../config/env.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import {
  buildOverride,
  composeVersion,
  findKeylessServices,
  keyVarsInEnvFile,
  type ComposeFileText,
  type KeylessService,
  type ServiceGrant,
} from '../../../docker/compose-override.js';
import { KeylessError, usageError } from '../../../errors.js';
import { createCredentialSource } from '../../../sources/index.js';
import { formatOidcSpec, oidcSpecFromFlags } from '../../../sources/oidc/index.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { ComposeFlags } from '../docker.js';

/** Compose's default file names, in its order of preference, and their override files. */
const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const OVERRIDE_FILES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

/** The user's compose files: -f as given, else the default file and its override when present. */
export function composeFilePaths(cwd: string, files: string[]): string[] {
  if (files.length > 0) return files.map((f) => resolve(cwd, f));
  const main = DEFAULT_FILES.map((f) => join(cwd, f)).find((p) => existsSync(p));
  if (!main)
    throw usageError(
      `no compose file in ${cwd} (looked for ${DEFAULT_FILES.join(', ')}). Pass one with -f FILE.`,
    );
  const override = OVERRIDE_FILES.map((f) => join(cwd, f)).find((p) => existsSync(p));
  return override ? [main, override] : [main];
}

/** Refuses env_file contents that set an AWS key variable, naming the env file and line. */
function refuseEnvFileKeys(services: KeylessService[]): void {
  for (const s of services)
    for (const e of s.envFiles) {
      const path = resolve(dirname(e.composeFile), e.file);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // compose itself reports a missing env_file
      }
      const hit = keyVarsInEnvFile(text)[0];
      if (hit)
        throw new KeylessError(
          'COMPOSE_KEY_IN_ENV',
          `${path}:${hit.line}: env_file of service "${s.name}" (${e.place.path}:${e.place.line}) sets ${hit.name}. Remove the key; keyless gives the service role credentials.`,
        );
    }
}

/** `docker compose` (v2) when the docker CLI has it, else `docker-compose` (v1). */
export function composeCommand(env: KeylessEnv): { cmd: string; args: string[] } {
  const docker = nonEmpty(env.vars.KEYLESS_DOCKER) ?? 'docker';
  const v2 = spawnSync(docker, ['compose', 'version'], { stdio: 'ignore', env: { ...env.vars } });
  if (v2.status === 0) return { cmd: docker, args: ['compose'] };
  return { cmd: 'docker-compose', args: [] };
}

export async function runCompose(args: string[], flags: ComposeFlags): Promise<ExitCode> {
  const env = loadEnv();
  const paths = composeFilePaths(process.cwd(), flags.file ?? []);
  const files: ComposeFileText[] = paths.map((p) => {
    try {
      return { path: p, text: readFileSync(p, 'utf8') };
    } catch (err) {
      throw new KeylessError('COMPOSE_FILE', `cannot read ${p}: ${(err as Error).message}`);
    }
  });
  const oidc = oidcSpecFromFlags(flags);
  if (oidc && flags.profile) throw usageError('--oidc takes the place of --profile: give one of them.');
  if (flags.roleArn && !oidc)
    throw usageError('compose --role-arn goes with --oidc (services name their own role with x-keyless).');
  // with --oidc, every service that names no profile gets its role (its own role-arn, else --role-arn)
  // from the web identity token
  const services = findKeylessServices(files, flags.profile).map((s) =>
    oidc && !s.profile
      ? {
          ...s,
          oidc: formatOidcSpec(oidc),
          ...((s.roleArn ?? flags.roleArn) ? { roleArn: s.roleArn ?? flags.roleArn } : {}),
        }
      : s,
  );
  refuseEnvFileKeys(services);
  const version = composeVersion(files);
  const network = flags.networkName;

  if (flags.print) {
    // --print registers nothing and shows placeholders: a printed credential id would outlive the run.
    const grants = new Map<string, ServiceGrant>(
      services.map((s) => [
        s.name,
        { relativeUri: '/v1/creds/<id made at run>', clientHash: '<sha256 of id>' },
      ]),
    );
    output.data(buildOverride({ services, grants, network, ...(version ? { version } : {}) }).trimEnd());
    return 0;
  }
  if (args.length === 0)
    throw usageError('keyless compose needs compose arguments: keyless compose -- up -d (or --print)');
  if (services.length === 0)
    output.warn('no service asks for AWS access (x-keyless or a keyless.profile / keyless.role-arn label).');

  // checks each profile's configuration now rather than at the container's first request
  const regions = new Map<string, string | undefined>();
  const exchanged = new Set<string>();
  for (const s of services) {
    if (oidc && s.oidc) {
      // tried once per role here, so a refused token or trust policy is this command's error
      if (!s.roleArn)
        throw usageError(
          `service "${s.name}" names no role: pass --role-arn, or give it x-keyless: {role-arn: ARN}.`,
        );
      if (!exchanged.has(s.roleArn)) {
        const source = await createCredentialSource({ oidc, roleArn: s.roleArn }, { env });
        await source();
        exchanged.add(s.roleArn);
      }
      continue;
    }
    const key = s.profile ?? (s.roleArn ? '' : (env.awsProfile ?? 'default'));
    if (!regions.has(key)) {
      const source = await createCredentialSource(key ? { profile: key } : {}, { env });
      regions.set(key, env.awsRegion ?? source.region);
      await source.dispose();
    }
  }
  if (services.length > 0) {
    const docker = dockerClientFromEnv(env);
    await docker.ping();
    const { checkServerLease, prepareEndpoint } = await import('./run.js');
    await prepareEndpoint(env, docker, flags);
    // each role's session in the server now: a profile it cannot use fails here, before anything runs
    const checked = new Set<string>();
    for (const s of services) {
      // the key the server builds from the service's labels (compose-override), exactly
      const key = {
        ...(s.profile ? { profile: s.profile } : {}),
        ...(s.roleArn ? { roleArn: s.roleArn } : {}),
        ...(s.oidc ? { oidc: s.oidc } : {}),
      };
      const k = JSON.stringify(key);
      if (checked.has(k)) continue;
      checked.add(k);
      await checkServerLease(env, key);
    }
  }
  const grants = new Map<string, ServiceGrant>();
  for (const s of services) {
    const id = randomBytes(32).toString('base64url');
    const region = s.oidc
      ? env.awsRegion
      : regions.get(s.profile ?? (s.roleArn ? '' : (env.awsProfile ?? 'default')));
    grants.set(s.name, {
      relativeUri: `/v1/creds/${id}`,
      clientHash: createHash('sha256').update(id).digest('hex'),
      ...(region ? { region } : {}),
    });
  }

  const dir = await mkdtemp(join(tmpdir(), 'keyless-compose-')); // mkdtemp makes it 0700
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  try {
    const generated = join(dir, 'keyless.override.yml');
    await writeFile(
      generated,
      buildOverride({ services, grants, network, ...(version ? { version } : {}) }),
      {
        mode: 0o600,
      },
    );
    const { cmd, args: pre } = composeCommand(env);
    const fileArgs = [...paths, generated].flatMap((p) => ['-f', p]);
    // compose takes the project directory from the first file; keep the user's, not our temp dir
    const projectArgs = ['--project-directory', dirname(paths[0] as string)];
    return await new Promise<ExitCode>((resolvePromise, reject) => {
      const child = spawn(cmd, [...pre, ...fileArgs, ...projectArgs, ...args], {
        stdio: 'inherit',
        env: { ...env.vars },
      });
      const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
      process.on('SIGINT', forward);
      process.on('SIGTERM', forward);
      child.on('error', (err) =>
        reject(
          new KeylessError(
            'DOCKER_COMPOSE_CLI',
            `cannot run "${cmd}": ${err.message}. Install docker compose (v2) or docker-compose, or set KEYLESS_DOCKER.`,
          ),
        ),
      );
      child.on('exit', (code, signal) => {
        process.off('SIGINT', forward);
        process.off('SIGTERM', forward);
        resolvePromise((code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1)) as ExitCode);
      });
    });
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
}
