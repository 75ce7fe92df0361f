// Where the file backend's passphrase comes from, in this order:
//   1. KEYLESS_PASSPHRASE (non-interactive use, CI)
//   2. passphraseCommand in $KEYLESS_HOME/config.json (e.g. `pass show keyless`, a macOS
//      `security find-generic-password -w …` lookup), run without a shell
//   3. a hidden prompt, only when stdin is a terminal (asked twice when the vault is new)
// Otherwise VAULT_PASSPHRASE_REQUIRED says how to provide one.
import { spawn } from 'node:child_process';
import { KeylessError } from '../errors.js';
import { timingSafeEqualString } from '../util/timing-safe.js';
import { VaultErrorCode } from './errors.js';
import type { PassphraseProvider } from './file-store.js';

export const PASSPHRASE_ENV = 'KEYLESS_PASSPHRASE';
const COMMAND_TIMEOUT_MS = 120_000;
const MAX_OUTPUT_BYTES = 64 * 1024;

/** A hidden prompt: returns what the user typed (not echoed). */
export type HiddenPrompt = (message: string) => Promise<string>;

export interface PassphraseSourceOptions {
  /** value of KEYLESS_PASSPHRASE */
  fromEnv: string | undefined;
  /** argv of config.json's passphraseCommand */
  command?: string[];
  configFile: string;
  /** whether stdin is a terminal */
  isTTY: boolean;
  prompt?: HiddenPrompt;
}

export function passphraseProvider(options: PassphraseSourceOptions): PassphraseProvider {
  return async ({ vaultDir, creating }) => {
    if (options.fromEnv !== undefined && options.fromEnv !== '') return options.fromEnv;
    if (options.command !== undefined) return runPassphraseCommand(options.command, options.configFile);
    if (options.isTTY && options.prompt !== undefined) {
      const first = await options.prompt(
        creating
          ? `New passphrase for the vault at ${vaultDir}:`
          : `Passphrase for the vault at ${vaultDir}:`,
      );
      if (first === '') throw required(vaultDir, options.configFile, 'the passphrase was empty');
      if (creating) {
        const again = await options.prompt('Repeat the passphrase:');
        if (!timingSafeEqualString(first, again)) {
          throw new KeylessError(
            VaultErrorCode.PASSPHRASE_MISMATCH,
            'the two passphrases differ; nothing was stored. Try again.',
          );
        }
      }
      return first;
    }
    throw required(vaultDir, options.configFile, 'no terminal to ask on');
  };
}

function required(vaultDir: string, configFile: string, why: string): KeylessError {
  return new KeylessError(
    VaultErrorCode.PASSPHRASE_REQUIRED,
    `the vault at ${vaultDir} needs a passphrase (${why}). Set ${PASSPHRASE_ENV}, or set "passphraseCommand" ` +
      `in ${configFile} (e.g. {"passphraseCommand": "pass show keyless"}), or run in a terminal.`,
  );
}

/**
 * Runs the command (argv, no shell) and returns the first line of its stdout. stdin and stderr are the
 * terminal's, so pinentry-style helpers can ask. The output is never shown, not even on failure.
 */
export function runPassphraseCommand(argv: string[], configFile: string): Promise<string> {
  const [cmd, ...args] = argv;
  const fail = (why: string, cause?: unknown): KeylessError =>
    new KeylessError(
      VaultErrorCode.PASSPHRASE_COMMAND_FAILED,
      `the passphraseCommand ${JSON.stringify(argv)} from ${configFile} ${why}. Run it by hand to see why, or fix it in that file.`,
      { cause },
    );
  return new Promise((resolve, reject) => {
    if (cmd === undefined) return reject(fail('is empty'));
    const child = spawn(cmd, args, { stdio: ['inherit', 'pipe', 'inherit'], shell: false });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= MAX_OUTPUT_BYTES) chunks.push(d);
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(fail(`could not start (${(err as NodeJS.ErrnoException).code ?? err.message})`, err));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0)
        return reject(fail(signal !== null ? `was stopped by ${signal}` : `exited with status ${code}`));
      const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
      if (line === '') return reject(fail('printed no passphrase'));
      resolve(line);
    });
  });
}
