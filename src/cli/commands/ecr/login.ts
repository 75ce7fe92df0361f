// `keyless ecr login REGISTRY`: the password goes to `docker login --password-stdin`, never to argv.
import { spawn } from 'node:child_process';
import { loadEnv, nonEmpty } from '../../../config/env.js';
import { KeylessError } from '../../../errors.js';
import { fetchEcrToken } from '../../../ecr/fetch-token.js';
import { parseRegistryHost } from '../../../ecr/registry-host.js';
import { tokenIdentity } from '../../../ecr/registry-settings.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';

export async function runEcrLogin(registry: string, printPassword: boolean): Promise<ExitCode> {
  const host = parseRegistryHost(registry);
  if (!host) throw new KeylessError('ECR_NOT_A_REGISTRY', `"${registry}" is not an ECR registry host.`);
  const env = loadEnv();
  const token = await fetchEcrToken(host, env, tokenIdentity({ registry: host }, env), () => undefined);
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
