// Pure parts of `keyless build`: where the Dockerfile is, whether it mounts the aws secret, whether the
// docker CLI can do BuildKit, and the credentials file BuildKit mounts.
import { KeylessError } from '../errors.js';
import type { Credentials } from '../sources/types.js';

/** The line a Dockerfile uses to read the credentials keyless hands to BuildKit. */
export const SECRET_MOUNT_LINE =
  'RUN --mount=type=secret,id=aws,target=/root/.aws/credentials <your command>';

/** docker build options that take a value (so the context is not mistaken for one). */
const VALUE_OPTIONS = new Set([
  '-f',
  '--file',
  '-t',
  '--tag',
  '--build-arg',
  '--target',
  '--platform',
  '--label',
  '--secret',
  '--ssh',
  '--network',
  '--iidfile',
  '--cache-from',
  '--cache-to',
  '--progress',
  '-o',
  '--output',
  '--add-host',
  '--shm-size',
  '--ulimit',
  '--cpu-shares',
  '-m',
  '--memory',
  '--builder',
  '--build-context',
  '--metadata-file',
]);

/** The Dockerfile a `docker build` argument list uses: -f/--file (relative to cwd), else CONTEXT/Dockerfile. */
export function dockerfileOf(args: string[]): { dockerfile?: string; context?: string } {
  let dockerfile: string | undefined;
  let context: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-f' || a === '--file') dockerfile = args[++i];
    else if (a.startsWith('--file=')) dockerfile = a.slice(7);
    else if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) context = a;
  }
  if (dockerfile === '-') dockerfile = undefined; // from stdin: cannot look
  return { ...(dockerfile ? { dockerfile } : {}), ...(context ? { context } : {}) };
}

/** True when a Dockerfile mounts the `aws` secret somewhere. */
export function mountsAwsSecret(dockerfile: string): boolean {
  return /--mount=[^\s]*type=secret[^\s]*\bid=aws\b|--mount=[^\s]*\bid=aws\b[^\s]*type=secret/.test(
    dockerfile,
  );
}

/** How to run BuildKit with this docker CLI, or the one message that says how to fix it. */
export function buildkitMode(cli: string, clientVersion: string, hasBuildx: boolean): 'buildx' | 'legacy' {
  if (hasBuildx) return 'buildx';
  const major = Number.parseInt(clientVersion.split('.')[0] ?? '', 10);
  // docker CLI 23+ dropped the built-in BuildKit client: DOCKER_BUILDKIT=1 docker build needs buildx
  // (https://docs.docker.com/engine/release-notes/23.0/#known-issues)
  if (Number.isFinite(major) && major < 23) return 'legacy';
  throw new KeylessError(
    'BUILD_NO_BUILDKIT',
    `the docker CLI "${cli}" (version ${clientVersion || 'unknown'}) cannot do BuildKit builds: it has no buildx plugin, and CLIs from 23 on build with BuildKit only through buildx. Install the buildx plugin (docker-buildx-plugin, or ~/.docker/cli-plugins/docker-buildx), or point KEYLESS_DOCKER at a docker CLI that has it (or a 20.10 CLI such as /usr/bin/docker).`,
  );
}

/** The shared-credentials file text BuildKit mounts at /root/.aws/credentials. */
export function credentialsFileText(c: Credentials): string {
  const lines = [
    '[default]',
    `aws_access_key_id = ${c.accessKeyId}`,
    `aws_secret_access_key = ${c.secretAccessKey}`,
  ];
  if (c.sessionToken) lines.push(`aws_session_token = ${c.sessionToken}`);
  return `${lines.join('\n')}\n`;
}
