// The command table. Each area registers its commands from its own file in cli/commands/; command
// bodies are imported lazily inside the actions so `keyless --help` loads no AWS SDK.
import { Command } from 'commander';
import { usageError } from '../errors.js';
import { keylessVersion } from './version.js';
import { registerVaultCommands } from './commands/vault.js';
import { registerCredentialCommands } from './commands/credentials.js';
import { registerServeCommands } from './commands/serve.js';
import { registerDockerCommands } from './commands/docker.js';
import { registerScanCommands } from './commands/scan.js';
import { registerEcrCommands } from './commands/ecr.js';
import { registerSwarmCommands } from './commands/swarm.js';
import { registerDoctorCommands } from './commands/doctor.js';
import { registerInfraCommands } from './commands/infra.js';
import { registerStatusCommands } from './commands/status.js';
import { registerCompletionCommands } from './commands/completion.js';

/**
 * `--role-arn "$ROLE"` with ROLE unset must not quietly mean "no role" (the profile's own, wider,
 * credentials): an option that takes a value refuses an empty one.
 */
export function refuseEmptyOptionValues(command: Command): void {
  for (const option of command.options) {
    if (!option.required) continue;
    const value: unknown = command.getOptionValue(option.attributeName());
    if (value === '' || (Array.isArray(value) && value.includes('')))
      throw usageError(
        `${option.long ?? option.flags} was given an empty value (an unset variable?): give a value, or leave the option out.`,
      );
  }
}

export function buildProgram(): Command {
  const program = new Command('keyless')
    .description('AWS access for Docker containers and developer machines without long-lived keys')
    .version(keylessVersion(), '-V, --version')
    .option('--debug', 'print stack traces and debug logs on stderr')
    .showHelpAfterError('(run with --help for usage)')
    // parse errors read like every other keyless error ("keyless: ...", not commander's "error: ...")
    .configureOutput({ outputError: (str, write) => write(str.replace(/^error: /, 'keyless: ')) })
    .exitOverride();
  // commands that keep state under KEYLESS_HOME refuse an unsafe one first (doctor reports it instead)
  program.hook('preAction', async (_program, action) => {
    refuseEmptyOptionValues(action);
    let top = action;
    while (top.parent && top.parent !== program) top = top.parent;
    if (['doctor', 'scan', 'policy', 'ec2', 'completion'].includes(top.name())) return;
    const { loadEnv } = await import('../config/env.js');
    const { checkHomeDir } = await import('../util/atomic-file.js');
    await checkHomeDir(loadEnv().keylessHome);
  });
  registerVaultCommands(program);
  registerCredentialCommands(program);
  registerServeCommands(program);
  registerStatusCommands(program);
  registerDockerCommands(program);
  registerScanCommands(program);
  registerEcrCommands(program);
  registerSwarmCommands(program);
  registerDoctorCommands(program);
  registerInfraCommands(program);
  registerCompletionCommands(program);
  return program;
}
