// `keyless completion bash|zsh|fish`, run in the real shells: the generated script is loaded, the
// shell's own completion entry point is called with the words typed so far, and what it offers is
// checked. bash: the function `complete -F` names, with COMP_WORDS/COMP_CWORD as bash sets them. zsh:
// the same function through zsh's bashcompinit, with the words and ksharrays as its _bash_complete
// passes them (zsh's compadd then filters by the prefix, so the list is checked unfiltered). fish:
// `complete -C`, fish's own completion query. Profile names come from a test AWS config file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTestEnv } from '../helpers/env.js';
import { KEYLESS_BIN, runKeyless, runProcess } from '../helpers/cli.js';

const CASES: { words: string[]; expect: string[]; exact?: boolean }[] = [
  { words: ['swarm', ''], expect: ['agent', 'attach', 'detach', 'secret', 'registry-auth'], exact: true },
  { words: ['swarm', 'agent', '--source-profile', ''], expect: ['dev', 'prod-eu'], exact: true },
  { words: ['exec', ''], expect: ['dev', 'prod-eu'], exact: true },
  { words: ['scan', '--format', ''], expect: ['text', 'json', 'sarif'], exact: true },
  { words: ['completion', ''], expect: ['bash', 'zsh', 'fish'], exact: true },
  { words: ['serve', '--'], expect: ['--profile', '--imds', '--endpoint', '--help'] },
  // a value of an option that takes one is skipped: the path is still "ecr cache"
  { words: ['--debug', 'ecr', 'cache', ''], expect: ['list', 'clear'], exact: true },
];

async function setup(
  t: Parameters<typeof makeTestEnv>[0],
): Promise<{ env: Record<string, string>; dir: string }> {
  const te = await makeTestEnv(t, { awsConfig: '[profile dev]\nregion = us-east-1\n[profile prod-eu]\n' });
  await writeFile(te.awsCredentialsFile, '[dev]\n');
  return { env: te.vars, dir: te.home };
}

async function script(shell: string, env: Record<string, string>, dir: string): Promise<string> {
  const r = await runKeyless(['completion', shell], { env });
  assert.equal(r.code, 0, r.stderr);
  const file = join(dir, `keyless.${shell}`);
  await writeFile(file, r.stdout);
  return file;
}

const sorted = (xs: string[]): string[] => [...xs].sort();

function check(shell: string, out: string): void {
  const lines = out.trim().split('\n');
  assert.equal(lines.length, CASES.length, `${shell}: one answer per case:\n${out}`);
  CASES.forEach((c, i) => {
    const got = (lines[i] ?? '').split(' ').filter(Boolean);
    if (c.exact) assert.deepEqual(sorted(got), sorted(c.expect), `${shell}: keyless ${c.words.join(' ')}`);
    else
      for (const e of c.expect)
        assert.ok(got.includes(e), `${shell}: keyless ${c.words.join(' ')} offers ${e}: ${got.join(' ')}`);
  });
}

const shellWords = (words: string[]): string => ['keyless', ...words].map((w) => `'${w}'`).join(' ');

test('bash: subcommands, options, option values (choices, profile names) and positional profiles', async (t) => {
  const { env, dir } = await setup(t);
  const file = await script('bash', env, dir);
  const body = [
    `source '${file}'`,
    `keyless() { node '${KEYLESS_BIN}' "$@"; }`,
    'try() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _keyless; echo "${COMPREPLY[*]}"; }',
    // bash filters by the word itself: only the prefix's candidates
    ...CASES.map((c) => `try ${shellWords(c.words)}`),
  ].join('\n');
  const r = await runProcess('bash', ['-c', body], { env });
  assert.equal(r.code, 0, r.stderr);
  check('bash', r.stdout);
  const prefix = await runProcess(
    'bash',
    ['-c', `source '${file}'; COMP_WORDS=(keyless sw); COMP_CWORD=1; _keyless; echo "\${COMPREPLY[*]}"`],
    { env },
  );
  assert.equal(prefix.stdout.trim(), 'swarm');
});

test('zsh: the same function through bashcompinit, as _bash_complete calls it', async (t) => {
  const { env, dir } = await setup(t);
  const file = await script('zsh', env, dir);
  const body = [
    `source '${file}'`,
    `keyless() { node '${KEYLESS_BIN}' "$@"; }`,
    'setopt ksharrays',
    'try() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _keyless; echo "${COMPREPLY[*]}"; }',
    ...CASES.map((c) => `try ${shellWords(c.words)}`),
    // bashcompinit registered the function for keyless
    'print -r -- "registered: ${_comps[keyless]}"',
  ].join('\n');
  const r = await runProcess('zsh', ['-f', '-c', body], { env });
  assert.equal(r.code, 0, r.stderr);
  const [registered, ...rest] = r.stdout.trim().split('\n').reverse();
  check('zsh', rest.reverse().join('\n'));
  assert.match(registered ?? '', /^registered: _bash_complete.*_keyless/);
});

test('fish: complete -C offers the same, with descriptions', async (t) => {
  const { env, dir } = await setup(t);
  const file = await script('fish', env, dir);
  const body = [
    `source '${file}'`,
    `function keyless; node '${KEYLESS_BIN}' $argv; end`,
    ...CASES.map(
      (c) =>
        `complete -C'${['keyless', ...c.words].join(' ')}' | string replace -r '\\t.*' '' | string join ' '`,
    ),
  ].join('\n');
  const r = await runProcess('fish', ['--no-config', '-c', body], { env });
  assert.equal(r.code, 0, r.stderr);
  check('fish', r.stdout);
  const described = await runProcess(
    'fish',
    ['--no-config', '-c', `source '${file}'; complete -C'keyless sw'`],
    { env },
  );
  assert.match(described.stdout, /^swarm\trole credentials for Docker Swarm services/m);
});

test('every command of the program is offered (the scripts are generated from the command table)', async (t) => {
  const { env } = await setup(t);
  const help = await runKeyless(['--help'], { env });
  const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z0-9-]*)\b/gm)]
    .map((m) => m[1] as string)
    .filter((c) => c !== 'help');
  assert.ok(commands.length > 15, commands.join(' '));
  const bash = await runKeyless(['completion', 'bash'], { env });
  const top = /^ {4}''\) printf '%s' '([^']*)'/m.exec(bash.stdout)?.[1]?.split(' ') ?? [];
  assert.deepEqual(sorted(top), sorted(commands));
  const bad = await runKeyless(['completion', 'tcsh'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /bash, zsh, fish/);
});
