// Registers this area's commands. Flags here; bodies imported lazily inside each action.
import type { Command } from 'commander';
import { action } from '../action.js';

const BACKEND_HELP =
  'vault backend: file (default) or keychain (default from KEYLESS_BACKEND or config.json)';

export function registerVaultCommands(program: Command): void {
  program
    .command('add')
    .description('store the long-term AWS keys of a profile, encrypted (asks for them with hidden input)')
    .argument('<profile>', 'profile name')
    .option('--env', 'read AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from the environment')
    .option('--backend <name>', BACKEND_HELP)
    .option('--force', 'replace the key of a profile that is already stored')
    .addHelpText(
      'after',
      '\nExamples:\n  keyless add dev                  # asks for the key id and secret (hidden)\n' +
        '  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… keyless add dev --env\n' +
        '  printf \'%s\\n%s\\n\' "$ID" "$SECRET" | keyless add dev   # no terminal: two lines on stdin',
    )
    .action(
      action(async (profile: string, opts: { env?: boolean; backend?: string; force?: boolean }) => {
        const { runAdd } = await import('./vault/add.js');
        return runAdd(profile, opts);
      }),
    );

  program
    .command('list')
    .description('list stored profiles (redacted key id, date added, backend); never a secret')
    .option('--json', 'print JSON')
    .option('--backend <name>', BACKEND_HELP)
    .addHelpText('after', '\nExamples:\n  keyless list\n  keyless list --json')
    .action(
      action(async (opts: { json?: boolean; backend?: string }) => {
        const { runList } = await import('./vault/list.js');
        return runList(opts);
      }),
    );

  program
    .command('remove')
    .description("delete a profile's stored keys")
    .argument('<profile>', 'profile name')
    .option('--yes', 'do not ask for confirmation (required without a terminal)')
    .option('--backend <name>', BACKEND_HELP)
    .addHelpText(
      'after',
      '\nExample:\n  keyless remove dev --yes\n\nThe access key itself still exists at AWS: delete it in IAM, or use `keyless rotate` to replace it.',
    )
    .action(
      action(async (profile: string, opts: { yes?: boolean; backend?: string }) => {
        const { runRemove } = await import('./vault/remove.js');
        return runRemove(profile, opts);
      }),
    );

  program
    .command('rotate')
    .description("replace a profile's access key: create a new one at IAM, verify it, delete the old one")
    .argument('<profile>', 'profile name')
    .option('--backend <name>', BACKEND_HELP)
    .addHelpText(
      'after',
      '\nExample:\n  keyless rotate dev\n\n' +
        "Needs iam:CreateAccessKey, iam:DeleteAccessKey and iam:ListAccessKeys on the user's own keys. If it\n" +
        'stops, the stored key keeps working and running it again finishes the job.',
    )
    .action(
      action(async (profile: string, opts: { backend?: string }) => {
        const { runRotate } = await import('./vault/rotate.js');
        return runRotate(profile, opts);
      }),
    );

  const imp = program.command('import').description('import keys from another tool');
  imp
    .command('aws-vault')
    .description("import long-term keys from aws-vault's file backend (~/.awsvault/keys)")
    .option('--dir <folder>', 'aws-vault key folder (default AWS_VAULT_FILE_DIR, then ~/.awsvault/keys)')
    .option('--profile <name...>', 'import only these profiles')
    .option('--force', 'replace profiles that are already stored')
    .option('--backend <name>', BACKEND_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  keyless import aws-vault --profile dev --profile prod\n' +
        '  AWS_VAULT_FILE_PASSPHRASE=… keyless import aws-vault --dir ~/.awsvault/keys',
    )
    .action(
      action(async (opts: { dir?: string; profile?: string[]; force?: boolean; backend?: string }) => {
        const { runImportAwsVault } = await import('./vault/import-aws-vault.js');
        return runImportAwsVault(opts);
      }),
    );
}
