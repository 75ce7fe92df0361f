// Process entry: parse, run, print errors, set the exit code. The only place that sets it.
import { CommanderError } from 'commander';
import { isKeylessError } from '../errors.js';
import { buildProgram } from './program.js';
import { takeExitCode } from './action.js';
import { keylessVersion } from './version.js';

/** Commands that hand their arguments to another program: an unknown option was most likely meant for it. */
const PASS_THROUGH: Record<string, string> = {
  exec: 'keyless exec PROFILE -- CMD ARGS...',
  run: 'keyless run --profile P -- [DOCKER-RUN-OPTIONS] IMAGE [CMD...]',
  compose: 'keyless compose --profile P -- COMPOSE-ARGS...',
  build: 'keyless build --profile P -- DOCKER-BUILD-ARGS...',
};

/** For `keyless exec dev ls -la`: says that the command's own options go after --. */
export function passThroughHint(argv: string[]): string | undefined {
  const command = argv.slice(2).find((a) => !a.startsWith('-'));
  const usage = command !== undefined ? PASS_THROUGH[command] : undefined;
  if (usage === undefined || argv.includes('--')) return undefined;
  return `keyless: options meant for ${command === 'exec' ? 'the command' : `docker ${command}`} go after --: ${usage}`;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  // The SDK warns on every run under Node 20; keyless supports Node 20, so the warning is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const debug = argv.includes('--debug') || Boolean(process.env.KEYLESS_DEBUG);
  const program = buildProgram();
  // `keyless help NAME` for a command that does not exist: say so, as `keyless NAME` does
  const [first, asked] = argv.slice(2);
  if (first === 'help' && asked !== undefined && !asked.startsWith('-')) {
    if (!program.commands.some((c) => c.name() === asked || c.aliases().includes(asked))) {
      process.stderr.write(`keyless: unknown command '${asked.slice(0, 40)}' (keyless --help lists them)\n`);
      return 2;
    }
  }
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; parse errors were printed by commander already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // a group without its command (`keyless ecr`) shows its help on stderr: a usage error, unlike `keyless help`
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      if (err.code === 'commander.unknownOption') {
        const hint = passThroughHint(argv);
        if (hint) process.stderr.write(`${hint}\n`);
      }
      return 2;
    }
    if (isKeylessError(err)) {
      process.stderr.write(`keyless: ${err.message}\n`);
      if (debug) process.stderr.write(`[${err.code}] ${err.stack ?? ''}\n`);
      return err.exitCode;
    }
    process.stderr.write(
      `keyless: internal error (a bug): ${err instanceof Error ? err.message : String(err)}\n` +
        `  keyless ${keylessVersion()}, node ${process.version}, command: ${argv.slice(2, 4).join(' ')}\n` +
        '  Please report it with the output of --debug.\n',
    );
    if (debug && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return 2;
  }
}
