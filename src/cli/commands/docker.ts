// Registers this area's commands. Flags here; bodies imported lazily inside each action.
import type { Command } from 'commander';

export function registerDockerCommands(_program: Command): void {}
