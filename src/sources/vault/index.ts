// The Vault source wired to the environment: Vault address/token/namespace/CA as the vault CLI reads
// them, and an sts:GetCallerIdentity check for iam_user keys (honours AWS_ENDPOINT_URL[_STS]).
import type { KeylessEnv } from '../../config/env.js';
import { awsClientConfig } from '../../aws/client-config.js';
import type { Clock } from '../../util/clock.js';
import type { Credentials } from '../types.js';
import { resolveVaultConfig } from './vault-config.js';
import { createVaultClient } from './vault-client.js';
import { fromVault, type VaultCredentialSource, type VaultSourceOptions } from './from-vault.js';

export { fromVault, parseVaultPath, normalizeTtl } from './from-vault.js';
export type { VaultCredentialSource, VaultSourceOptions, VaultLease } from './from-vault.js';
export { VaultErrorCode } from './vault-errors.js';

export interface VaultContext {
  env: KeylessEnv;
  clock?: Clock;
  log?: (line: string) => void;
  region?: string;
}

export function createVaultSource(options: VaultSourceOptions, context: VaultContext): VaultCredentialSource {
  const client = createVaultClient(resolveVaultConfig(context.env));
  return fromVault(options, {
    client,
    ...(context.clock ? { clock: context.clock } : {}),
    ...(context.log ? { log: context.log } : {}),
    verify: (credentials) => callerIdentityWorks(context.env, credentials, context.region),
  });
}

async function callerIdentityWorks(
  env: KeylessEnv,
  credentials: Credentials,
  region?: string,
): Promise<boolean> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const sts = new STSClient({
    ...awsClientConfig(env, { service: 'STS', ...(region ? { region } : {}), credentials }),
    maxAttempts: 1,
  });
  try {
    await sts.send(new GetCallerIdentityCommand({}));
    return true;
  } catch {
    return false;
  } finally {
    sts.destroy();
  }
}
