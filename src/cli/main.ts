// Process entry: parse, run, print errors, set the exit code. The only place that sets it.
import { CommanderError } from 'commander';
import { isKeylessError } from '../errors.js';
import { buildProgram } from './program.js';
import { takeExitCode } from './action.js';
import { keylessVersion } from './version.js';

export async function main(argv: string[] = process.argv): Promise<number> {
  // The SDK warns on every run under Node 20; keyless supports Node 20, so the warning is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const debug = argv.includes('--debug') || Boolean(process.env.KEYLESS_DEBUG);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return takeExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; parse errors were printed by commander already.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // a group without its command (`keyless ecr`) shows its help on stderr: a usage error, unlike `keyless help`
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
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
