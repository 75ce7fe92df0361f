// ecr:GetAuthorizationToken (or ecr-public) in the registry's region, with the credentials the user
// has where it runs: a keyless profile or role (set for the registry, or KEYLESS_ECR_PROFILE /
// AWS_PROFILE) on a host, else what the environment offers, decided without probing (environment
// keys, a container endpoint, a web identity, the shared files; the instance role only on EC2).
// Honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECR and _ECR_PUBLIC.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeylessEnv } from '../config/env.js';
import { KeylessError } from '../errors.js';
import { awsClientConfig } from '../aws/client-config.js';
import type { Credentials } from '../sources/types.js';
import type { RegistryHost } from './registry-host.js';

export interface EcrToken {
  username: string;
  secret: string;
  expiresAt: number;
}

function decode(token: string): { username: string; secret: string } {
  const text = Buffer.from(token, 'base64').toString('utf8');
  const i = text.indexOf(':');
  if (i < 0) throw new Error('the authorization token is not user:password');
  return { username: text.slice(0, i), secret: text.slice(i + 1) };
}

/** Whether this machine is an EC2 instance, from what the kernel shows (no request is made). */
export function looksLikeEc2(read: (path: string) => string | undefined): boolean {
  const vendor = `${read('/sys/devices/virtual/dmi/id/sys_vendor') ?? ''} ${read('/sys/devices/virtual/dmi/id/product_name') ?? ''}`;
  if (/Amazon EC2/i.test(vendor)) return true;
  if (/^i-[0-9a-f]{8,17}\s*$/.test(read('/sys/devices/virtual/dmi/id/board_asset_tag') ?? '')) return true;
  return /^ec2/i.test(read('/sys/hypervisor/uuid') ?? '');
}

const readSmall = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8').slice(0, 256);
  } catch {
    return undefined;
  }
};

/**
 * Which credentials the helper has with no profile set, decided from the environment alone (never by
 * probing): keys in the environment, a container credentials endpoint, a web identity token, the
 * shared files' default profile, and the instance role only on EC2 (KEYLESS_EC2=1|0 overrides the
 * detection) unless AWS_EC2_METADATA_DISABLED. Undefined when there are none: fail at once (the Go
 * helper waits up to a minute on the metadata service first; amazon-ecr-credential-helper#137).
 */
export function defaultCredentialKind(
  env: KeylessEnv,
  exists: (path: string) => boolean,
  onEc2: () => boolean,
): 'env' | 'container' | 'web-identity' | 'shared-files' | 'instance' | undefined {
  const v = env.vars;
  if (v.AWS_ACCESS_KEY_ID && v.AWS_SECRET_ACCESS_KEY) return 'env';
  if (v.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || v.AWS_CONTAINER_CREDENTIALS_FULL_URI) return 'container';
  if (v.AWS_WEB_IDENTITY_TOKEN_FILE && v.AWS_ROLE_ARN) return 'web-identity';
  const credentialsFile = v.AWS_SHARED_CREDENTIALS_FILE || join(env.home, '.aws', 'credentials');
  const configFile = v.AWS_CONFIG_FILE || join(env.home, '.aws', 'config');
  if (exists(credentialsFile) || exists(configFile)) return 'shared-files';
  if (v.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true') return undefined;
  const forced = v.KEYLESS_EC2;
  if (forced === '1' || (forced !== '0' && onEc2())) return 'instance';
  return undefined;
}

async function credentialsFor(
  env: KeylessEnv,
  who: { profile?: string; roleArn?: string },
): Promise<Credentials | (() => Promise<Credentials>)> {
  if (who.profile || who.roleArn) {
    const { createCredentialSource } = await import('../sources/index.js');
    return createCredentialSource(
      { ...(who.profile ? { profile: who.profile } : {}), ...(who.roleArn ? { roleArn: who.roleArn } : {}) },
      { env },
    );
  }
  const kind = defaultCredentialKind(env, existsSync, () => looksLikeEc2(readSmall));
  if (kind === undefined)
    throw new KeylessError(
      'ECR_NO_CREDENTIALS',
      'no AWS credentials to ask ECR for a token: set KEYLESS_ECR_PROFILE (or AWS_PROFILE) to a keyless profile, or map the registry to one with `keyless ecr configure REGISTRY --profile P`; in a container, run it with keyless run (credentials endpoint).',
    );
  const p = await import('@aws-sdk/credential-providers');
  const provider = ((): (() => Promise<Credentials>) => {
    switch (kind) {
      case 'env':
        return p.fromEnv() as () => Promise<Credentials>;
      case 'container':
        return p.fromContainerMetadata({ timeout: 2000, maxRetries: 1 }) as () => Promise<Credentials>;
      case 'web-identity':
        return p.fromTokenFile() as () => Promise<Credentials>;
      case 'shared-files':
        return p.fromIni() as () => Promise<Credentials>;
      default:
        return p.fromInstanceMetadata({ timeout: 1000, maxRetries: 1 }) as () => Promise<Credentials>;
    }
  })();
  return async () => {
    try {
      return await provider();
    } catch (err) {
      // e.g. ~/.aws/config with named profiles only: say what would work instead
      throw new KeylessError(
        'ECR_NO_CREDENTIALS',
        `${(err as Error).message.split('\n')[0]} (${kind === 'shared-files' ? 'the default profile of the shared AWS files' : kind}); set KEYLESS_ECR_PROFILE (or AWS_PROFILE) to a profile, or map the registry with \`keyless ecr configure REGISTRY --profile P\`.`,
      );
    }
  };
}

export async function fetchEcrToken(
  registry: RegistryHost,
  env: KeylessEnv,
  who: { profile?: string; roleArn?: string },
  log: (l: string) => void,
): Promise<EcrToken> {
  const credentials = await credentialsFor(env, who);
  if (registry.kind === 'public') {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr-public');
    const c = new ECRPUBLICClient({
      ...awsClientConfig(env, { service: 'ECR_PUBLIC', region: 'us-east-1', credentials }),
      maxAttempts: 2,
    });
    try {
      const r = await c.send(new GetAuthorizationTokenCommand({}));
      const d = r.authorizationData;
      if (!d?.authorizationToken) throw new Error('ECR Public returned no token');
      log(`ecr-public: new token, expires ${d.expiresAt?.toISOString() ?? '?'}`);
      return { ...decode(d.authorizationToken), expiresAt: d.expiresAt?.getTime() ?? 0 };
    } finally {
      c.destroy();
    }
  }
  const { ECRClient, GetAuthorizationTokenCommand } = await import('@aws-sdk/client-ecr');
  const c = new ECRClient({
    ...awsClientConfig(env, { service: 'ECR', region: registry.region, credentials }),
    maxAttempts: 2,
  });
  try {
    const r = await c.send(new GetAuthorizationTokenCommand({ registryIds: [registry.account] }));
    const d = r.authorizationData?.[0];
    if (!d?.authorizationToken) throw new Error('ECR returned no token');
    log(`${registry.host}: new token, expires ${d.expiresAt?.toISOString() ?? '?'}`);
    return { ...decode(d.authorizationToken), expiresAt: d.expiresAt?.getTime() ?? 0 };
  } finally {
    c.destroy();
  }
}
