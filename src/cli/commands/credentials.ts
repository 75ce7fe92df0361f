// Registers `keyless exec` and `keyless export`. Bodies are imported lazily.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from '../action.js';
import { addOidcOptions, OIDC_HELP, type OidcFlags } from './oidc-options.js';

export interface CredentialFlags extends OidcFlags {
  roleArn?: string;
  mfaToken?: string;
  duration?: string;
}

export function registerCredentialCommands(program: Command): void {
  const exec = program
    .command('exec')
    .description('run a host command with short-lived credentials of PROFILE (never the long-term key)')
    .argument(
      '[profile]',
      'profile in ~/.aws/config or the keyless vault (default AWS_PROFILE, then "default"; none with --oidc)',
    )
    .argument('[command...]', 'the command and its arguments, after --')
    .option(
      '--role-arn <arn>',
      'assume this role on top of the profile (with --oidc: the role to exchange the token for)',
    )
    .option(
      '--mfa-token <code>',
      'MFA code (otherwise asked on the terminal when the profile has mfa_serial)',
    )
    .option('--duration <seconds>', 'session duration (900-43200)')
    .addHelpText(
      'after',
      '\nSets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION and\n' +
        'AWS_CREDENTIAL_EXPIRATION; removes AWS_PROFILE and other credential variables. Exit status is the\n' +
        "command's (128+N when it dies of signal N). HashiCorp Vault leases are revoked when it ends. With\n" +
        '--oidc the variables that hold the token (or, for github, request it) are removed too.\n\n' +
        'Examples:\n  keyless exec dev -- aws sts get-caller-identity\n' +
        '  keyless exec --oidc github --role-arn arn:aws:iam::123456789012:role/ci -- aws s3 ls\n' +
        OIDC_HELP,
    )
    .action(
      action(async (profile: string | undefined, command: string[], flags: CredentialFlags) => {
        const { runExec, splitExecOperands } = await import('./credentials/exec.js');
        const split = splitExecOperands(profile, command, process.argv);
        return runExec(split.profile, split.command, flags);
      }),
    );
  addOidcOptions(exec);
  const exp = program
    .command('export')
    .description('print short-lived credentials of PROFILE (env lines, JSON, or credential_process JSON)')
    .argument(
      '[profile]',
      'profile in ~/.aws/config or the keyless vault (default AWS_PROFILE, then "default"; none with --oidc)',
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['env', 'json', 'credential-process'])
        .default('env'),
    )
    .option(
      '--role-arn <arn>',
      'assume this role on top of the profile (with --oidc: the role to exchange the token for)',
    )
    .option('--mfa-token <code>', 'MFA code')
    .option('--duration <seconds>', 'session duration (900-43200)')
    .addHelpText(
      'after',
      '\nExamples:\n  eval "$(keyless export dev)"\n  keyless export dev --format json\n' +
        '  eval "$(keyless export --oidc github --role-arn arn:aws:iam::123456789012:role/ci)"   # in CI\n' +
        '\nIn ~/.aws/config:\n  [profile app]\n  credential_process = keyless export dev --format credential-process\n\n' +
        'Secrets go to stdout only. Vault leases are not revoked by export (the consumer holds the credentials).\n' +
        OIDC_HELP,
    )
    .action(
      action(async (profile: string | undefined, flags: CredentialFlags & { format: string }) => {
        const { runExport } = await import('./credentials/export.js');
        return runExport(profile, flags);
      }),
    );
  addOidcOptions(exp);
}
