// Registers `keyless serve`. The body is imported lazily.
import type { Command } from 'commander';
import { action } from '../action.js';

export interface ServeFlags {
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
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description(
      'serve short-lived credentials over the ECS container endpoint and an IMDSv2-compatible endpoint',
    )
    .option('--profile <profile>', 'profile to serve (default AWS_PROFILE, then "default")')
    .option('--role-arn <arn>', 'assume this role on top of the profile')
    .option('--listen <host:port...>', 'address(es) to listen on (default 127.0.0.1:9911)')
    .option(
      '--token-file <file>',
      'write a fresh authorization token here (0600) for AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    )
    .option(
      '--imds',
      'print the IMDSv2 variables (AWS_EC2_METADATA_SERVICE_ENDPOINT) instead of the ECS ones',
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
    .option('--stop', 'stop the background server')
    .option('--status', 'show the background server')
    .addHelpText(
      'after',
      '\nExample:\n  keyless serve --profile dev --listen 127.0.0.1:9911 --token-file ~/.keyless/token\n' +
        '  # then, in the client: the two lines it prints (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)',
    )
    .action(
      action(async (flags: ServeFlags) => {
        const { runServe } = await import('./serve/run.js');
        return runServe(flags);
      }),
    );
}
