// Where Vault is and how to talk to it, read as the vault CLI reads it: VAULT_ADDR (default
// https://127.0.0.1:8200), VAULT_TOKEN then ~/.vault-token, VAULT_NAMESPACE, VAULT_CACERT,
// VAULT_SKIP_VERIFY. OpenBao's BAO_* names are honoured first, falling back to VAULT_* as bao does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeylessEnv } from '../../config/env.js';
import { nonEmpty } from '../../config/env.js';
import { KeylessError } from '../../errors.js';
import { VaultErrorCode } from './vault-errors.js';

export const DEFAULT_VAULT_ADDR = 'https://127.0.0.1:8200';

export interface VaultConfig {
  readonly address: string;
  /** where the token came from, for messages (never the token itself) */
  readonly tokenSource: string;
  readonly token: string;
  readonly namespace?: string;
  readonly caCert?: Buffer;
  readonly skipVerify: boolean;
}

function pick(env: KeylessEnv, name: string): string | undefined {
  return nonEmpty(env.vars[`BAO_${name}`]) ?? nonEmpty(env.vars[`VAULT_${name}`]);
}

export function resolveVaultConfig(env: KeylessEnv): VaultConfig {
  const address = (pick(env, 'ADDR') ?? DEFAULT_VAULT_ADDR).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(address)) {
    throw new KeylessError(
      VaultErrorCode.CONFIG,
      `VAULT_ADDR "${address}" is not an http(s) URL. Set it like https://vault.example.com:8200.`,
    );
  }
  let token = pick(env, 'TOKEN');
  let tokenSource = nonEmpty(env.vars.BAO_TOKEN) ? 'BAO_TOKEN' : 'VAULT_TOKEN';
  if (token === undefined) {
    const file = nonEmpty(env.vars.BAO_TOKEN_PATH) ?? join(env.home, '.vault-token');
    try {
      token = readFileSync(file, 'utf8').trim() || undefined;
      tokenSource = file;
    } catch {
      token = undefined;
    }
  }
  if (token === undefined) {
    throw new KeylessError(
      VaultErrorCode.NO_TOKEN,
      `no Vault token: VAULT_TOKEN is not set and ~/.vault-token does not exist. Run \`vault login\` (against ${address}) or set VAULT_TOKEN.`,
    );
  }
  const config: { -readonly [K in keyof VaultConfig]: VaultConfig[K] } = {
    address,
    token,
    tokenSource,
    skipVerify: ['1', 'true'].includes((pick(env, 'SKIP_VERIFY') ?? '').toLowerCase()),
  };
  const ns = pick(env, 'NAMESPACE');
  if (ns !== undefined) config.namespace = ns;
  const caFile = pick(env, 'CACERT');
  if (caFile !== undefined) {
    try {
      config.caCert = readFileSync(caFile);
    } catch (err) {
      throw new KeylessError(
        VaultErrorCode.CONFIG,
        `cannot read the CA bundle VAULT_CACERT=${caFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix the path.`,
      );
    }
  }
  return config;
}
