// ecr:GetAuthorizationToken (or ecr-public) in the registry's region, with the credentials the user
// has where it runs: a keyless profile on a host, else the SDK's default chain (container endpoint,
// instance role, environment). Honours AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_ECR and _ECR_PUBLIC.
import type { KeylessEnv } from '../config/env.js';
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

async function credentialsFor(
  env: KeylessEnv,
  profile: string | undefined,
): Promise<Credentials | (() => Promise<Credentials>)> {
  if (profile) {
    const { createCredentialSource } = await import('../sources/index.js');
    return createCredentialSource({ profile }, { env });
  }
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return fromNodeProviderChain() as () => Promise<Credentials>;
}

export async function fetchEcrToken(
  registry: RegistryHost,
  env: KeylessEnv,
  profile: string | undefined,
  log: (l: string) => void,
): Promise<EcrToken> {
  const credentials = await credentialsFor(env, profile);
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
