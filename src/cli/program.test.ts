import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { isKeylessError } from '../errors.js';
import { buildProgram } from './program.js';

/** Every command below the program, with its full name ("swarm secret add"). */
function commands(root: Command): { name: string; cmd: Command }[] {
  const out: { name: string; cmd: Command }[] = [];
  const walk = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      const name = `${prefix}${sub.name()}`;
      out.push({ name, cmd: sub });
      walk(sub, `${name} `);
    }
  };
  walk(root, '');
  return out;
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

test('every command has a description, and every command that runs something shows an example', () => {
  const missing: string[] = [];
  for (const { name, cmd } of commands(buildProgram())) {
    if (cmd.description().trim() === '') missing.push(`${name}: no description`);
    // groups (ecr, swarm secret, ...) only list their commands; a command with an action shows how to call it
    const runs = (cmd as unknown as { _actionHandler: unknown })._actionHandler !== null;
    if (runs && !/\nExamples?:\n/.test(helpOf(cmd))) missing.push(`${name}: no example`);
  }
  assert.deepEqual(missing, []);
});

test('no option shows its default twice (in its description and as the default commander prints)', () => {
  for (const { name, cmd } of commands(buildProgram()))
    for (const o of cmd.options)
      if (o.defaultValue !== undefined) assert.doesNotMatch(o.description, /\(default/, `${name} ${o.flags}`);
});

test('an option given an empty value (an unset variable) is a usage error, before the command runs', async () => {
  for (const argv of [
    ['export', 'dev', '--role-arn', ''],
    ['serve', '--profile', ''],
    ['scan', '.', '--exclude', 'a', ''],
    ['policy', 's3', '--access', 'read', '--bucket', 'b-1', '--format', 'json', '--prefix', ''],
  ]) {
    const program = buildProgram();
    await assert.rejects(
      program.parseAsync(['node', 'keyless', ...argv]),
      (err: unknown) =>
        isKeylessError(err) && err.code === 'USAGE' && /was given an empty value/.test(err.message),
      argv.join(' '),
    );
  }
});

test('no option defaults to an empty value (it would be refused as an unset variable)', () => {
  for (const { name, cmd } of commands(buildProgram()))
    for (const o of cmd.options) assert.notEqual(o.defaultValue, '', `${name} ${o.flags}`);
});
