// Registers `keyless ecr configure|login|cache clear`. Bodies are imported lazily.
import type { Command } from 'commander';
import { action } from '../action.js';

export function registerEcrCommands(program: Command): void {
  const ecr = program
    .command('ecr')
    .description('Amazon ECR with no docker login and no stored password (docker-credential-keyless)');
  ecr
    .command('configure')
    .description(
      'point docker at docker-credential-keyless for these registries (credHelpers in the docker config)',
    )
    .argument('<registry...>', 'ECR registry hosts')
    .option('--remove', 'take the entries out again')
    .addHelpText(
      'after',
      '\nExample:\n  keyless ecr configure 123456789012.dkr.ecr.eu-west-1.amazonaws.com public.ecr.aws',
    )
    .action(
      action(async (registries: string[], opts: { remove?: boolean }) => {
        const { loadEnv } = await import('../../config/env.js');
        const { configureCredHelpers } = await import('../../ecr/configure.js');
        const { output } = await import('../output.js');
        const r = await configureCredHelpers(loadEnv(), registries, opts.remove ?? false);
        output.data(
          r.changed.length === 0
            ? `${r.path}: nothing to change`
            : `${r.path}: ${opts.remove ? 'removed' : 'added'} ${r.changed.join(', ')} (backup: ${r.path}.keyless-backup)`,
        );
        return 0;
      }),
    );
  ecr
    .command('login')
    .description(
      'docker login to an ECR registry for tools that cannot use credential helpers (prints nothing secret)',
    )
    .argument('<registry>', 'ECR registry host')
    .option('--print-password', 'print the password on stdout instead of logging in (for other tools)')
    .action(
      action(async (registry: string, opts: { printPassword?: boolean }) => {
        const { runEcrLogin } = await import('./ecr/login.js');
        return runEcrLogin(registry, opts.printPassword ?? false);
      }),
    );
  const cache = ecr
    .command('cache')
    .description("the ECR helper's token cache ($KEYLESS_HOME/ecr/tokens.json)");
  cache
    .command('clear')
    .description('forget every cached ECR token (the next pull asks ECR again)')
    .action(
      action(async () => {
        const { loadEnv } = await import('../../config/env.js');
        const { keylessPaths } = await import('../../config/paths.js');
        const { clearCache } = await import('../../ecr/token-cache.js');
        const { output } = await import('../output.js');
        const path = keylessPaths(loadEnv().keylessHome).ecrTokenCache;
        const n = await clearCache(path, (line) => output.info(line));
        output.data(`${path}: ${n} cached token(s) removed`);
        return 0;
      }),
    );
}
