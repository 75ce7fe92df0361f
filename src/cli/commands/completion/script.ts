// The script for one shell, from the program's own command table.
import type { Command } from 'commander';
import { commandTree } from '../../completion/tree.js';
import { renderBash, renderZsh } from '../../completion/render-bash.js';
import { renderFish } from '../../completion/render-fish.js';

export function completionScript(program: Command, shell: 'bash' | 'zsh' | 'fish'): string {
  const tree = commandTree(program);
  const name = program.name();
  if (shell === 'fish') return renderFish(tree, name);
  if (shell === 'zsh') return renderZsh(tree, name);
  return renderBash(tree, name);
}
