// Registers `keyless run` (and, later, compose and build). Bodies are imported lazily.
import type { Command } from 'commander';
import { action } from '../action.js';
import { addOidcOptions, OIDC_HELP, type OidcFlags } from './oidc-options.js';

/** The keyless network and how containers reach the server: the same options on run and compose. */
export interface EndpointOptionFlags {
  networkName: string;
  subnet: string;
  gateway?: string;
  endpoint?: string;
  channel?: string;
  hostAddress?: string;
  endpointBaseImage?: string;
}

function addEndpointOptions(cmd: Command): Command {
  return cmd
    .option('--network-name <name>', 'keyless bridge network', 'keyless')
    .option('--subnet <cidr>', 'its subnet', '169.254.170.0/24')
    .option(
      '--gateway <ip>',
      'its gateway (default 169.254.170.2 in host mode, where the server listens; 169.254.170.1 in container mode)',
    )
    .option(
      '--endpoint <mode>',
      'auto (default; env KEYLESS_ENDPOINT): host when keyless may bind 169.254.170.2:80 next to the engine (root, same network namespace), else container: an endpoint container at 169.254.170.2 relays to the host server',
    )
    .option(
      '--channel <kind>',
      'container mode: auto, unix (a mounted socket) or tcp (to --host-address)',
      'auto',
    )
    .option(
      '--host-address <addr>',
      "container mode over TCP: this machine as the engine's containers reach it (env KEYLESS_HOST_ADDRESS; default host.docker.internal)",
    )
    .option(
      '--endpoint-base-image <image>',
      "build the endpoint image FROM this Node.js image (default: this machine's Node.js on a Linux engine of its architecture, else node:<major>-alpine)",
    );
}

export interface RunFlags extends EndpointOptionFlags, OidcFlags {
  profile?: string;
  roleArn?: string;
  imds?: boolean;
}

export function registerDockerCommands(program: Command): void {
  registerRunCommand(program);
  registerComposeCommand(program);
  registerBuildCommand(program);
}

function registerRunCommand(program: Command): void {
  const cmd = program
    .command('run')
    .description('docker run with role credentials the way ECS tasks get them: no key in env, image or mount')
    .argument('[docker-run-args...]', 'docker run arguments, after --')
    .option('--profile <profile>', 'profile whose credentials the container gets (or label keyless.profile)')
    .option(
      '--role-arn <arn>',
      'role the container gets, assumed from the profile, or with --oidc the role the token is exchanged for (or label keyless.role-arn)',
    )
    .option(
      '--imds',
      'also set AWS_EC2_METADATA_SERVICE_ENDPOINT for tools that only read instance metadata',
    );
  addOidcOptions(cmd);
  addEndpointOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  keyless run --profile dev -- --rm -it amazon/aws-cli sts get-caller-identity\n' +
        '  keyless run --oidc github --role-arn arn:aws:iam::123456789012:role/ci -- --rm amazon/aws-cli s3 ls\n\n' +
        'The container gets only AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (and the region). The credential id\n' +
        "is bound to the container's address and revoked when it stops. KEYLESS_DOCKER names the docker CLI.\n" +
        'Without root, with rootless Docker, Docker Desktop or a remote engine, a keyless-endpoint container\n' +
        'holds 169.254.170.2 and relays to the keyless server here (keyless serve --status shows it); for an\n' +
        "engine elsewhere pass --host-address with this machine's address as its containers see it.\n" +
        'With --oidc the keyless server (started here, with this environment) fetches the tokens; the\n' +
        'container gets only the label keyless.oidc naming where from (github, gitlab:VAR, ...).\n' +
        OIDC_HELP,
    )
    .action(
      action(async (args: string[], flags: RunFlags) => {
        const { runRun } = await import('./docker/run.js');
        return runRun(args, flags);
      }),
    );
}

export interface ComposeFlags extends EndpointOptionFlags, OidcFlags {
  profile?: string;
  roleArn?: string;
  print?: boolean;
  file?: string[];
}

function registerComposeCommand(program: Command): void {
  const cmd = program
    .command('compose')
    .description(
      'docker compose where services asking for AWS access (x-keyless, keyless.* labels) get role credentials',
    )
    .argument('[compose-args...]', 'compose arguments, after --')
    .option(
      '--profile <profile>',
      'profile for services that ask for access without naming a profile or role',
    )
    .option(
      '--role-arn <arn>',
      'with --oidc: the role for services that name none (a service naming its own role gets that one, from the same token)',
    )
    .option('--print', 'print the generated override and exit (registers nothing; ids are placeholders)')
    .option(
      '-f, --file <file>',
      'compose file (repeatable; default: compose finds them)',
      (v: string, acc: string[] = []) => [...acc, v],
    );
  addOidcOptions(cmd);
  addEndpointOptions(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n  keyless compose --profile dev -- up -d\n' +
        '  keyless compose --oidc github --role-arn arn:aws:iam::123456789012:role/ci -- up --abort-on-container-exit\n\n' +
        'A service asks with `x-keyless: {profile: dev}` (or role-arn) or a keyless.profile / keyless.role-arn label.\n' +
        OIDC_HELP,
    )
    .action(
      action(async (args: string[], flags: ComposeFlags) => {
        const { runCompose } = await import('./docker/compose.js');
        return runCompose(args, flags);
      }),
    );
}

export interface BuildFlags extends OidcFlags {
  profile?: string;
  roleArn?: string;
}

function registerBuildCommand(program: Command): void {
  const build = program
    .command('build')
    .description(
      'docker build with BuildKit; short-lived credentials as the `aws` secret, never in the image',
    )
    .argument('[docker-build-args...]', 'docker build arguments, after --')
    .option('--profile <profile>', 'profile whose credentials the build gets')
    .option(
      '--role-arn <arn>',
      'role the build gets, assumed from the profile (with --oidc: the role the token is exchanged for)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  keyless build --profile dev -- -t app .\n' +
        '  keyless build --oidc github --role-arn arn:aws:iam::123456789012:role/ci -- -t app .\n\n' +
        'In the Dockerfile: RUN --mount=type=secret,id=aws,target=/root/.aws/credentials aws s3 cp ...\n' +
        'Exit 1 when the built image holds the secret. KEYLESS_DOCKER names the docker CLI.\n' +
        OIDC_HELP,
    )
    .action(
      action(async (args: string[], flags: BuildFlags) => {
        const { runBuild } = await import('./docker/build.js');
        return runBuild(args, flags);
      }),
    );
  addOidcOptions(build);
}
