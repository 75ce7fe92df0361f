// The command tree as shell completion needs it (pure): for each command path, its subcommands,
// options (which take a value, and what kind of value) and what its positional arguments are. Read
// from the commander program itself, so completion never falls behind the commands.
import type { Command, Option } from 'commander';

/** What a value or an argument completes to. */
export type ValueKind =
  | { kind: 'none' }
  | { kind: 'files' }
  | { kind: 'dirs' }
  | { kind: 'profiles' }
  | { kind: 'choices'; values: string[] };

export interface OptionNode {
  /** --long (and -s) spellings */
  names: string[];
  description: string;
  /** undefined: a flag that takes no value */
  value?: ValueKind;
}

export interface CommandNode {
  /** the words after the program name: '' for the program, 'swarm agent', ... */
  path: string;
  name: string;
  description: string;
  subcommands: CommandNode[];
  options: OptionNode[];
  /** what positional words complete to (the first argument's kind) */
  args: ValueKind;
}

const PROFILE_WORD = /(^|-)profile$/;

/** The kind of a value from its name: a profile, a file or folder, a choice, else nothing to offer. */
export function kindFromName(name: string, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return { kind: 'choices', values: [...choices] };
  const n = name.toLowerCase().replace(/^-+/, '');
  if (PROFILE_WORD.test(n)) return { kind: 'profiles' };
  if (/(^|-)(dir|folder|directory)$/.test(n)) return { kind: 'dirs' };
  if (/(^|-)(file|path|output|target|dockerfile|baseline|context)s?$/.test(n)) return { kind: 'files' };
  return { kind: 'none' };
}

/** A value written like `<octal>` or `<file:PATH>`: its placeholder, when the option's name says nothing. */
function valuePlaceholder(flags: string): string {
  return /[<[]([^>\]]+)[>\]]/.exec(flags)?.[1] ?? '';
}

function optionNode(o: Option): OptionNode | undefined {
  if (o.hidden) return undefined;
  const names = [o.long, o.short].filter((x): x is string => typeof x === 'string');
  const takesValue = o.required || o.optional;
  if (!takesValue) return { names, description: o.description };
  let value = kindFromName(o.long ?? '', o.argChoices);
  if (value.kind === 'none') value = kindFromName(valuePlaceholder(o.flags));
  return { names, description: o.description, value };
}

export function commandTree(cmd: Command, path = ''): CommandNode {
  const options = cmd.options.map(optionNode).filter((o): o is OptionNode => o !== undefined);
  options.push({ names: ['--help', '-h'], description: 'display help for command' });
  const first = cmd.registeredArguments[0];
  const args = first ? kindFromName(first.name(), first.argChoices) : { kind: 'none' as const };
  return {
    path,
    name: cmd.name(),
    description: cmd.description(),
    subcommands: cmd.commands
      .filter((c) => !(c as Command & { _hidden?: boolean })._hidden && c.name() !== 'help')
      .map((c) => commandTree(c, path ? `${path} ${c.name()}` : c.name())),
    options,
    args: first && /\b(arg|args|command)\b/.test(first.name()) ? { kind: 'files' } : args,
  };
}

export function allNodes(root: CommandNode): CommandNode[] {
  return [root, ...root.subcommands.flatMap(allNodes)];
}
