// The vault's settings in $KEYLESS_HOME/config.json: which backend, and how to get the passphrase.
//   { "backend": "file" | "keychain", "passphraseCommand": "pass show keyless" | ["pass", "show", "keyless"] }
// Other areas may keep their own keys in the same file; unknown keys are ignored here.
import { readFile } from 'node:fs/promises';
import { KeylessError, CommonErrorCode } from '../errors.js';

export type BackendName = 'file' | 'keychain';
export const BACKENDS: readonly BackendName[] = ['file', 'keychain'];

export interface StoreConfig {
  backend?: BackendName;
  /** argv of a command that prints the passphrase on its first line of stdout */
  passphraseCommand?: string[];
}

export async function readStoreConfig(configFile: string): Promise<StoreConfig> {
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new KeylessError(
      CommonErrorCode.FILE_UNREADABLE,
      `cannot read ${configFile} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix its permissions.`,
      { cause: err },
    );
  }
  return parseStoreConfig(text, configFile);
}

/** Pure: config.json text → StoreConfig; every problem reported at once. */
export function parseStoreConfig(text: string, where: string): StoreConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw invalid(where, [`not valid JSON (${(err as Error).message})`]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw invalid(where, ['expected a JSON object']);
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  const out: StoreConfig = {};
  if (o.backend !== undefined) {
    if (typeof o.backend === 'string' && (BACKENDS as readonly string[]).includes(o.backend)) {
      out.backend = o.backend as BackendName;
    } else problems.push(`backend: expected "file" or "keychain", got ${JSON.stringify(o.backend)}`);
  }
  if (o.passphraseCommand !== undefined) {
    const cmd = o.passphraseCommand;
    if (typeof cmd === 'string' && cmd.trim() !== '') out.passphraseCommand = splitCommand(cmd);
    else if (Array.isArray(cmd) && cmd.length > 0 && cmd.every((a) => typeof a === 'string' && a !== '')) {
      out.passphraseCommand = cmd as string[];
    } else problems.push('passphraseCommand: expected a command string or a non-empty array of strings');
  }
  if (problems.length > 0) throw invalid(where, problems);
  return out;
}

/**
 * Splits a command line into argv the way a shell would split words, with '…' and "…" quoting and
 * backslash escapes, but with no expansion of any kind: the result is run without a shell, so
 * `$(…)`, `;`, `|` and globs are passed as literal text, never interpreted.
 */
export function splitCommand(line: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote !== undefined)
    throw new KeylessError(CommonErrorCode.CONFIG_INVALID, `unclosed ${quote} in command: ${line}`);
  if (inWord) args.push(cur);
  return args;
}

function invalid(where: string, problems: string[]): KeylessError {
  return new KeylessError(
    CommonErrorCode.CONFIG_INVALID,
    `${where} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix the file and try again.`,
  );
}
