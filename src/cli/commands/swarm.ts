// Registers `keyless swarm ...`. Bodies are imported lazily inside each action.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from '../action.js';

export function registerSwarmCommands(program: Command): void {
  const swarm = program
    .command('swarm')
    .description('role credentials for Docker Swarm services: a per-node agent, or rotated Swarm secrets');
  registerSecretCommands(swarm);
}

function registerSecretCommands(swarm: Command): void {
  const secret = swarm
    .command('secret')
    .description(
      'short-lived credentials as a rotated Swarm secret (every rotation replaces the tasks; prefer the agent for long-running services)',
    );
  secret
    .command('add')
    .description(
      'store short-lived credentials as a Swarm secret, mount it in SERVICE and point AWS_SHARED_CREDENTIALS_FILE at it',
    )
    .argument('<service>', 'service name or id')
    .option('--profile <profile>', 'keyless / ~/.aws/config profile to mint credentials from')
    .option('--role-arn <arn>', 'role to assume (on top of --profile, or of the default profile)')
    .option('--duration <seconds>', 'session duration in seconds', '3600')
    .option(
      '--region <region>',
      'set AWS_REGION / AWS_DEFAULT_REGION in the service (default: the profile region)',
    )
    .addOption(new Option('--mode <octal>', 'file mode of the credentials file inside tasks').default('0444'))
    .addHelpText(
      'after',
      '\nExample:\n  keyless swarm secret add api --profile prod\n  keyless swarm secret rotate --once     # from cron',
    )
    .action(
      action(async (service: string, opts: SecretAddOptions) => {
        const { runSecretAdd } = await import('./swarm/secret.js');
        return runSecretAdd(service, opts);
      }),
    );
  secret
    .command('rotate')
    .description(
      'rotate the keyless secrets of SERVICE... (default: every service that has one) before they expire',
    )
    .argument('[services...]', 'service names or ids')
    .option(
      '--once',
      'rotate what is due and exit (for cron); without it, keep running and rotate as they come due',
    )
    .option('--now', 'rotate regardless of expiry')
    .option(
      '--refresh-before <seconds>',
      'rotate when less than this is left (default: half the session duration)',
    )
    .action(
      action(async (services: string[], opts: SecretRotateOptions) => {
        const { runSecretRotate } = await import('./swarm/secret.js');
        return runSecretRotate(services, opts);
      }),
    );
  secret
    .command('remove')
    .description(
      'take away everything keyless added to SERVICE (secret, env, labels) and delete its keyless secrets',
    )
    .argument('<service>', 'service name or id')
    .action(
      action(async (service: string) => {
        const { runSecretRemove } = await import('./swarm/secret.js');
        return runSecretRemove(service);
      }),
    );
}

export interface SecretAddOptions {
  profile?: string;
  roleArn?: string;
  duration: string;
  region?: string;
  mode: string;
}

export interface SecretRotateOptions {
  once?: boolean;
  now?: boolean;
  refreshBefore?: string;
}
