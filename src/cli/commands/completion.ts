// Registers `keyless completion bash|zsh|fish`: a completion script generated from the command table
// itself, and (hidden, for the scripts) `--profiles`, the profile names of ~/.aws/config and
// ~/.aws/credentials. Vault-only profiles are not listed: their names are not readable without the
// passphrase, by design (file names in the vault are HMACs).
import type { Command } from 'commander';
import { Argument, Option } from 'commander';
import { action } from '../action.js';
import { usageError } from '../../errors.js';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;

export function registerCompletionCommands(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for bash, zsh or fish (commands, options, profile names)')
    .addArgument(new Argument('[shell]', 'the shell').choices(COMPLETION_SHELLS))
    .addOption(new Option('--profiles', 'print the profile names the scripts complete').hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  bash: keyless completion bash > ~/.local/share/bash-completion/completions/keyless\n' +
        '  zsh:  in ~/.zshrc: source <(keyless completion zsh)\n' +
        '  fish: keyless completion fish > ~/.config/fish/completions/keyless.fish\n' +
        'Profile names come from ~/.aws/config and ~/.aws/credentials (vault-only names stay private).',
    )
    .action(
      action(async (shell: string | undefined, flags: { profiles?: boolean }) => {
        if (flags.profiles) {
          const { completionProfiles } = await import('./completion/profiles.js');
          process.stdout.write((await completionProfiles()).map((p) => `${p}\n`).join(''));
          return 0;
        }
        if (!shell || !(COMPLETION_SHELLS as readonly string[]).includes(shell))
          throw usageError(
            `say which shell: keyless completion ${COMPLETION_SHELLS.join('|')}${shell ? ` ("${shell.slice(0, 40)}" is not one)` : ''}.`,
          );
        const { completionScript } = await import('./completion/script.js');
        process.stdout.write(completionScript(program, shell as (typeof COMPLETION_SHELLS)[number]));
        return 0;
      }),
    );
}
