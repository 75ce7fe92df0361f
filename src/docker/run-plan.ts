// Pure planning for `keyless run`: refuse credentials passed the unsafe ways, then add the keyless
// network, the relative URI, the region and labels in front of the user's own docker-run arguments.
import { KeylessError } from '../errors.js';

export const CLIENT_LABEL = 'keyless.client';
export const PROFILE_LABEL = 'keyless.profile';
export const ROLE_ARN_LABEL = 'keyless.role-arn';
/** where the server takes a web identity token for this container's role (a place, never a token) */
export const OIDC_LABEL = 'keyless.oidc';
const SECRET_VARS = ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'];

export interface RunPlanInput {
  args: string[];
  network: string;
  relativeUri: string;
  clientHash: string;
  profile?: string;
  roleArn?: string;
  oidc?: string;
  region?: string;
  imdsEndpoint?: string;
}

/** The value of each `--label k=v` / `-l k=v` in the user's args. */
export function labelsIn(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    let v: string | undefined;
    if (a === '--label' || a === '-l') v = args[++i];
    else if (a.startsWith('--label=')) v = a.slice(8);
    if (v !== undefined) {
      const eq = v.indexOf('=');
      if (eq > 0) out[v.slice(0, eq)] = v.slice(eq + 1);
    }
  }
  return out;
}

/** Throws DOCKER_UNSAFE_CREDENTIALS naming the argument to remove when AWS secrets are passed in. */
export function refuseUnsafeArgs(args: string[]): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    let env: string | undefined;
    if (a === '-e' || a === '--env') env = args[i + 1];
    else if (a.startsWith('--env=')) env = a.slice(6);
    else if (a.startsWith('-e') && a.length > 2) env = a.slice(2);
    if (env !== undefined) {
      const name = env.split('=')[0] ?? '';
      if (SECRET_VARS.includes(name)) {
        throw new KeylessError(
          'DOCKER_UNSAFE_CREDENTIALS',
          `refusing "${a === '-e' || a === '--env' ? `${a} ${env.split('=')[0]}=…` : `${name}=…`}": keyless gives the container role credentials itself. Remove it.`,
        );
      }
    }
    let mount: string | undefined;
    if (a === '-v' || a === '--volume' || a === '--mount') mount = args[i + 1];
    else if (a.startsWith('--volume=') || a.startsWith('--mount=')) mount = a.slice(a.indexOf('=') + 1);
    if (mount !== undefined && /(^|[=,\s/])\.aws(\/|:|,|$)|\/\.aws\b|aws\/credentials/.test(mount)) {
      throw new KeylessError(
        'DOCKER_UNSAFE_CREDENTIALS',
        `refusing the mount "${mount}": it shares AWS credentials files with the container. Remove it.`,
      );
    }
    if (a === '--network' || a === '--net' || a.startsWith('--network=') || a.startsWith('--net=')) {
      throw new KeylessError(
        'DOCKER_NETWORK_ARG',
        'keyless run puts the container on the keyless network itself; Docker 20.10 takes one --network at create. Remove --network, and `docker network connect OTHER CONTAINER` after start if needed.',
      );
    }
  }
}

export function planRunArgs(input: RunPlanInput): string[] {
  refuseUnsafeArgs(input.args);
  const ours = [
    '--network',
    input.network,
    '-e',
    `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=${input.relativeUri}`,
    '--label',
    `${CLIENT_LABEL}=${input.clientHash}`,
  ];
  if (input.profile) ours.push('--label', `${PROFILE_LABEL}=${input.profile}`);
  if (input.roleArn) ours.push('--label', `${ROLE_ARN_LABEL}=${input.roleArn}`);
  if (input.oidc) ours.push('--label', `${OIDC_LABEL}=${input.oidc}`);
  if (input.region) ours.push('-e', `AWS_REGION=${input.region}`, '-e', `AWS_DEFAULT_REGION=${input.region}`);
  if (input.imdsEndpoint) ours.push('-e', `AWS_EC2_METADATA_SERVICE_ENDPOINT=${input.imdsEndpoint}`);
  return ['run', ...ours, ...input.args];
}
