// A small Vault HTTP client over node:http(s) (the four calls keyless needs: read creds, revoke a
// lease, look up its own token). Vault's conventions: X-Vault-Token, X-Vault-Namespace,
// X-Vault-Request; errors as {"errors": [...]}, 403 permission denied, 503 sealed.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KeylessError } from '../../errors.js';
import type { VaultConfig } from './vault-config.js';
import { VaultErrorCode } from './vault-errors.js';

export interface VaultResponse {
  status: number;
  body: unknown;
}

export interface VaultClient {
  readonly config: VaultConfig;
  call(method: 'GET' | 'PUT' | 'POST', path: string, payload?: unknown): Promise<VaultResponse>;
}

const TIMEOUT_MS = 15_000;

export function createVaultClient(config: VaultConfig): VaultClient {
  return {
    config,
    call(method, path, payload) {
      const url = new URL(`${config.address}/v1/${path.replace(/^\/+/, '')}`);
      const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
      const headers: Record<string, string> = {
        'X-Vault-Token': config.token,
        'X-Vault-Request': 'true',
        Accept: 'application/json',
      };
      if (config.namespace !== undefined) headers['X-Vault-Namespace'] = config.namespace;
      if (body) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(body.length);
      }
      return new Promise((resolve, reject) => {
        const options = { method, headers, timeout: TIMEOUT_MS };
        const req =
          url.protocol === 'https:'
            ? httpsRequest(url, {
                ...options,
                ...(config.caCert ? { ca: config.caCert } : {}),
                rejectUnauthorized: !config.skipVerify,
              })
            : httpRequest(url, options);
        req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS / 1000} s`)));
        req.on('error', (err) =>
          reject(
            new KeylessError(
              VaultErrorCode.UNREACHABLE,
              `cannot reach Vault at ${config.address} (${(err as NodeJS.ErrnoException).code ?? err.message}). ` +
                'Check VAULT_ADDR, that Vault runs, and VAULT_CACERT for a private CA.',
              { cause: err },
            ),
          ),
        );
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            if (text.trim() !== '') {
              try {
                parsed = JSON.parse(text);
              } catch {
                parsed = { errors: [text.slice(0, 200)] };
              }
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        });
        req.end(body);
      });
    },
  };
}

/** The `errors` array of a Vault error body, joined; never includes the token. */
export function vaultErrorText(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(String).join('; ');
  return 'no error text';
}
