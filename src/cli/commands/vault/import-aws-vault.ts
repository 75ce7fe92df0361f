// keyless import aws-vault [--dir FOLDER] [--profile P...] [--force] [--backend file|keychain]
import { join } from 'node:path';
import { loadEnv, nonEmpty } from '../../../config/env.js';
import { KeylessError, isKeylessError } from '../../../errors.js';
import { VaultErrorCode } from '../../../store/errors.js';
import { readAwsVaultDir } from '../../../store/import-aws-vault.js';
import { openStore } from '../../../store/index.js';
import { redactAccessKeyId } from '../../../util/redact.js';
import type { ExitCode } from '../../action.js';
import { output } from '../../output.js';
import { validateKey } from './key-input.js';

export const AWS_VAULT_PASSPHRASE_ENV = 'AWS_VAULT_FILE_PASSPHRASE';

export async function runImportAwsVault(opts: {
  dir?: string;
  profile?: string[];
  force?: boolean;
  backend?: string;
}): Promise<ExitCode> {
  const env = loadEnv();
  const dir = opts.dir ?? nonEmpty(env.vars.AWS_VAULT_FILE_DIR) ?? join(env.home, '.awsvault', 'keys');
  const items = await readAwsVaultDir(
    dir,
    () => awsVaultPassphrase(env.vars[AWS_VAULT_PASSPHRASE_ENV], dir),
    opts.profile !== undefined ? { profiles: opts.profile } : {},
  );
  for (const wanted of opts.profile ?? []) {
    if (!items.some((i) => (i.kind === 'key' ? i.profile : i.name) === wanted)) {
      output.warn(`profile ${wanted} is not in ${dir}`);
    }
  }
  const store = await openStore(env, opts.backend !== undefined ? { backend: opts.backend } : {});
  let imported = 0;
  let problems = 0;
  for (const item of items) {
    if (item.kind === 'skipped') {
      output.info(`skipped ${item.name}: ${item.reason}`);
      continue;
    }
    try {
      const key = validateKey(item.key.accessKeyId, item.key.secretAccessKey);
      await store.putRecord(
        { profile: item.profile, key, addedAt: new Date().toISOString() },
        { mode: opts.force === true ? 'replace' : 'create' },
      );
      imported++;
      output.info(`imported ${item.profile} (${redactAccessKeyId(key.accessKeyId)})`);
    } catch (err) {
      if (!isKeylessError(err)) throw err;
      // A wrong keyless passphrase or an unusable vault stops everything; one bad item does not.
      // An already stored profile is left as it is, so running the import again is harmless.
      if (err.code === VaultErrorCode.PROFILE_EXISTS) {
        output.info(`kept ${item.profile}: already stored (use --force to replace it)`);
        continue;
      }
      if (err.code !== VaultErrorCode.INVALID_KEY) throw err;
      problems++;
      output.info(`not imported ${item.profile}: ${err.message}`);
    }
  }
  output.info(`imported ${imported} profile(s) from ${dir} into ${store.location}`);
  return problems > 0 ? 2 : 0;
}

async function awsVaultPassphrase(fromEnv: string | undefined, dir: string): Promise<string> {
  if (fromEnv !== undefined) return fromEnv;
  if (process.stdin.isTTY) {
    const { hiddenTtyPrompt } = await import('../../../store/tty-prompt.js');
    return hiddenTtyPrompt(`aws-vault passphrase for ${dir}:`);
  }
  throw new KeylessError(
    VaultErrorCode.PASSPHRASE_REQUIRED,
    `the aws-vault folder ${dir} needs its passphrase: set ${AWS_VAULT_PASSPHRASE_ENV} or run in a terminal.`,
  );
}
