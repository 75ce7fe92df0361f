// `keyless ecr login REGISTRY`: the password goes to `docker login --password-stdin`, never to argv.
import { spawn } from 'node:child_process';
import { loadEnv, nonEmpty } from '../../../config/env.js';
import { KeylessError } from '../../../errors.js';
import { fetchEcrToken } from '../../../ecr/fetch-token.js';
import { readRegistrySettings, resolveRegistry, tokenIdentity } from '../../../ecr/registry-settings.js';
import { keylessPaths } from '../../../config/paths.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';

export async function runEcrLogin(registry: string, printPassword: boolean): Promise<ExitCode> {
  const env = loadEnv();
  // a host set with keyless ecr configure (any host:port) as the credential helper sees it
  const resolved = resolveRegistry(
    registry,
    await readRegistrySettings(keylessPaths(env.keylessHome).ecrRegistries),
  );
  if (!resolved)
    throw new KeylessError(
      'ECR_NOT_A_REGISTRY',
      `"${registry}" is not an ECR registry host, nor one set with keyless ecr configure HOST --account A --region R.`,
    );
  const host = resolved.registry;
  const token = await fetchEcrToken(host, env, tokenIdentity(resolved, env), () => undefined);
  if (printPassword) {
    output.data(token.secret);
    return 0;
  }
  const cli = nonEmpty(env.vars.KEYLESS_DOCKER) ?? 'docker';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(cli, ['login', '--username', token.username, '--password-stdin', host.host], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    child.on('error', (err) => reject(new KeylessError('DOCKER_CLI', `cannot run ${cli}: ${err.message}`)));
    child.on('exit', (c) => resolve(c ?? 1));
    child.stdin.end(token.secret);
  });
  return code === 0 ? 0 : 1;
}
