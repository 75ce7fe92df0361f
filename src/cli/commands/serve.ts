// Registers `keyless serve`. The body is imported lazily.
import type { Command } from 'commander';
import { action } from '../action.js';
import { addOidcOptions, OIDC_HELP, type OidcFlags } from './oidc-options.js';

export interface ServeFlags extends OidcFlags {
  profile?: string;
  roleArn?: string;
  listen?: string[];
  tokenFile?: string;
  imds?: boolean;
  allowImdsv1?: boolean;
  hopLimit: string;
  region?: string;
  daemon?: boolean;
  docker?: string;
  stop?: boolean;
  status?: boolean;
  endpoint?: string;
  channel?: string;
  hostAddress?: string;
  endpointBaseImage?: string;
  subnet?: string;
  gateway?: string;
}

export function registerServeCommands(program: Command): void {
  const serve = program
    .command('serve')
    .description(
      'serve short-lived credentials over the ECS container endpoint and an IMDSv2-compatible endpoint',
    )
    .option('--profile <profile>', 'profile to serve (default AWS_PROFILE, then "default")')
    .option(
      '--role-arn <arn>',
      'assume this role on top of the profile (with --oidc: the role to exchange the token for)',
    )
    .option('--listen <host:port...>', 'address(es) to listen on (default 127.0.0.1:9911)')
    .option(
      '--token-file <file>',
      'write a fresh authorization token here (0600) for AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    )
    .option(
      '--imds',
      'also serve the IMDSv2-compatible endpoint (off by default) and print AWS_EC2_METADATA_SERVICE_ENDPOINT; it has no bearer token, so any process that reaches the address (every local user) can read the role, as on EC2',
    )
    .option(
      '--allow-imdsv1',
      'answer metadata GETs without an IMDSv2 token (off by default, as it should be)',
    )
    .option(
      '--hop-limit <n>',
      'emulated IMDS hop limit: token requests from container networks get no answer below 2',
      '1',
    )
    .option('--region <region>', 'region reported by the metadata endpoint')
    .option('--daemon', 'run in the background (pid and log under $KEYLESS_HOME/server/)')
    .option(
      '--docker <network>',
      'serve containers started by keyless run on this Docker network (found by label, bound to their address)',
    )
    .option(
      '--endpoint <mode>',
      'host: listen on the --listen addresses (the network gateway for containers); container: an endpoint container on the --docker network relays to this server (keyless run chooses; env KEYLESS_ENDPOINT)',
    )
    .option(
      '--channel <kind>',
      "container mode: auto (unix socket when the engine sees this machine's files, else TCP), unix or tcp",
      'auto',
    )
    .option(
      '--host-address <addr>',
      "container mode, TCP channel: this machine as the engine's containers reach it (env KEYLESS_HOST_ADDRESS; default host.docker.internal)",
    )
    .option(
      '--endpoint-base-image <image>',
      "container mode: build the endpoint image FROM this Node.js image instead of this machine's Node.js",
    )
    .option('--subnet <cidr>', "container mode: the keyless network's subnet", '169.254.170.0/24')
    .option(
      '--gateway <ip>',
      "container mode: the keyless network's gateway (not 169.254.170.2)",
      '169.254.170.1',
    )
    .option('--stop', 'stop the background server (and remove its endpoint container)')
    .option('--status', 'show the background server')
    .addHelpText(
      'after',
      '\nExample:\n  keyless serve --profile dev --listen 127.0.0.1:9911 --token-file ~/.keyless/token\n' +
        '  # then, in the client: the two lines it prints (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)\n' +
        '  keyless serve --oidc github --role-arn arn:aws:iam::123456789012:role/ci --daemon\n' +
        OIDC_HELP,
    )
    .action(
      action(async (flags: ServeFlags) => {
        const { runServe } = await import('./serve/run.js');
        return runServe(flags);
      }),
    );
  addOidcOptions(serve);
}
