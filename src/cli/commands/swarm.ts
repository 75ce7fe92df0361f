// Registers `keyless swarm ...`. Bodies are imported lazily inside each action.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from '../action.js';
import { addOidcOptions, OIDC_HELP, type OidcFlags } from './oidc-options.js';

export function registerSwarmCommands(program: Command): void {
  const swarm = program
    .command('swarm')
    .description('role credentials for Docker Swarm services: a per-node agent, or rotated Swarm secrets');
  registerAgentCommands(swarm);
  registerSecretCommands(swarm);
  swarm
    .command('registry-auth')
    .description(
      "keep services' registry auth fresh: send a new ECR token before the stored one expires, restarting no task (the --with-registry-auth token otherwise goes stale after 12 h)",
    )
    .argument(
      '[service...]',
      'only these services (default: every service whose image is on a registry keyless serves)',
    )
    .option(
      '--once',
      "refresh once and exit (for cron or CI); without it, keep refreshing at half of each token's life",
    )
    .addHelpText(
      'after',
      '\nRuns on a manager. Registries: ECR hosts, and any host set with `keyless ecr configure HOST --account A --region R`.\n' +
        'Example:\n  keyless swarm registry-auth --once\n  keyless swarm agent --registry-auth   (the agent does it too)',
    )
    .action(
      action(async (services: string[], opts: { once?: boolean }) => {
        const { runRegistryAuth } = await import('./swarm/registry-auth.js');
        return runRegistryAuth(services, opts);
      }),
    );
}

function registerAgentCommands(swarm: Command): void {
  const agent = swarm
    .command('agent')
    .description(
      "serve the ECS credentials endpoint (169.254.170.2:80) to the Swarm tasks on this node, each with its service's role",
    )
    .option(
      '--session-duration <seconds>',
      'session duration (AWS minimum 900; shorter is accepted with a warning)',
      '3600',
    )
    .option(
      '--refresh-before <seconds>',
      'refresh this long before expiry (never more than half the duration)',
      '1800',
    )
    .option(
      '--source-profile <profile>',
      "the agent's own source: a keyless / ~/.aws/config profile (role ARNs are assumed from it)",
    )
    .option('--listen <host:port>', 'address to serve', '169.254.170.2:80');
  addOidcOptions(
    agent,
    "web identity token instead of --source-profile, exchanged for each service's --role-arn: github, gitlab, file:PATH or env:VAR",
  )
    .option(
      '--registry-auth',
      "also keep services' ECR registry auth fresh (on a manager; as `keyless swarm registry-auth`)",
    )
    .addHelpText(
      'after',
      '\nServices opt in with `keyless swarm attach SERVICE --profile P | --role-arn ARN`.\n' +
        'With --oidc, services attached with --role-arn get that role for the web identity token\n' +
        '(AssumeRoleWithWebIdentity; the token is read again for every new session); --profile services\n' +
        'keep their profile.\n' +
        'Example:\n  keyless swarm agent --source-profile node-base\n  keyless swarm agent --oidc file:/var/run/keyless/token\n  keyless swarm agent install --image REGISTRY/keyless:VERSION --source-profile node-base',
    )
    .action(
      action(async (opts: AgentOptions) => {
        const { runAgent } = await import('./swarm/agent.js');
        return runAgent(opts);
      }),
    );
  agent
    .command('install')
    .description(
      'create the agent as a global Swarm service: host network, the Docker socket, NET_ADMIN to add the address',
    )
    .requiredOption(
      '--image <ref>',
      'an image with keyless installed (pushed to a registry every node can pull from)',
    )
    .option('--source-profile <profile>', "the agent's source profile on each node")
    .option(
      '--oidc <file:PATH>',
      'a web identity token file on every node (or /run/secrets/NAME with --secret NAME) instead of --source-profile',
    )
    .option('--session-duration <seconds>', 'session duration', '3600')
    .option('--refresh-before <seconds>', 'refresh this long before expiry', '1800')
    .option(
      '--secret <name...>',
      'Swarm secrets the agent needs to reach its source (e.g. a Vault token), mounted at /run/secrets/NAME',
    )
    .option('--name <name>', 'service name', 'keyless-agent')
    .addHelpText(
      'after',
      '\nExamples:\n  keyless swarm agent install --image REGISTRY/keyless:VERSION --source-profile node-base\n' +
        '  keyless swarm agent install --image REGISTRY/keyless:VERSION --oidc file:/run/secrets/ci-token --secret ci-token',
    )
    .action(
      action(async (opts: AgentInstallOptions) => {
        const { runAgentInstall } = await import('./swarm/agent.js');
        return runAgentInstall(opts);
      }),
    );
  swarm
    .command('attach')
    .description(
      'give SERVICE a role through the agent: the role label and a credentials URI, in one service update',
    )
    .argument('<service>', 'service name or id')
    .option('--profile <profile>', 'profile the agent mints credentials from')
    .option('--role-arn <arn>', 'role the agent assumes for this service')
    .option(
      '--region <region>',
      'AWS_REGION / AWS_DEFAULT_REGION for the tasks (kept if the service sets its own)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  keyless swarm attach api --profile prod\n' +
        '  keyless swarm attach api --role-arn arn:aws:iam::123456789012:role/api --region eu-west-1',
    )
    .action(
      action(async (service: string, opts: AttachCliOptions) => {
        const { runAttach } = await import('./swarm/agent.js');
        return runAttach(service, opts);
      }),
    );
  swarm
    .command('detach')
    .description('take the keyless role label and credentials URI out of SERVICE')
    .argument('<service>', 'service name or id')
    .addHelpText('after', '\nExample:\n  keyless swarm detach api')
    .action(
      action(async (service: string) => {
        const { runDetach } = await import('./swarm/agent.js');
        return runDetach(service);
      }),
    );
}

export interface AgentOptions extends OidcFlags {
  sessionDuration: string;
  refreshBefore: string;
  sourceProfile?: string;
  listen: string;
  registryAuth?: boolean;
}

export interface AgentInstallOptions {
  image: string;
  sourceProfile?: string;
  oidc?: string;
  sessionDuration: string;
  refreshBefore: string;
  secret?: string[];
  name: string;
}

export interface AttachCliOptions {
  profile?: string;
  roleArn?: string;
  region?: string;
}

function registerSecretCommands(swarm: Command): void {
  const secret = swarm
    .command('secret')
    .description(
      'short-lived credentials as a rotated Swarm secret (every rotation replaces the tasks; prefer the agent for long-running services)',
    );
  const secretAdd = secret
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
    .addOption(
      new Option('--mode <octal>', 'file mode of the credentials file inside tasks').default('0444'),
    );
  addOidcOptions(secretAdd)
    .addHelpText(
      'after',
      OIDC_HELP +
        '\nThe source (github, file:PATH, ...; never the token) is kept in a service label, so `rotate`\n' +
        'mints from it again: run it where that token is available.\n' +
        '\nExample:\n  keyless swarm secret add api --profile prod\n  keyless swarm secret add api --oidc github --role-arn arn:aws:iam::111122223333:role/deploy\n  keyless swarm secret rotate --once     # from cron',
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
    .addHelpText(
      'after',
      '\nExamples:\n  keyless swarm secret rotate --once       # from cron\n  keyless swarm secret rotate api --now',
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
    .addHelpText('after', '\nExample:\n  keyless swarm secret remove api')
    .action(
      action(async (service: string) => {
        const { runSecretRemove } = await import('./swarm/secret.js');
        return runSecretRemove(service);
      }),
    );
}

export interface SecretAddOptions extends OidcFlags {
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
