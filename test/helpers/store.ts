// Helpers for vault tests: the error code of a rejected promise, the item files of a KEYLESS_HOME,
// and the error code a CLI run reported (KEYLESS_DEBUG=1 makes main print "[CODE]").
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isKeylessError } from '../../src/errors.js';
import type { RunResult } from './cli.js';

export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isKeylessError(err)) return err.code;
    throw err;
  }
  return 'none';
}

/** item files (full paths) of a vault or sessions folder; [] when it does not exist */
export async function itemFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => /^[0-9a-f]{40}$/.test(n)).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

/** path → bytes of every file under the folders, to prove nothing changed */
export async function snapshot(dirs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = await readdir(d);
    } catch {
      continue;
    }
    for (const n of names) out.set(join(d, n), (await readFile(join(d, n))).toString('base64'));
  }
  return out;
}

/** the [CODE] printed by main under KEYLESS_DEBUG=1, or undefined */
export function cliErrorCode(r: RunResult): string | undefined {
  return /^\[([A-Z_]+)\]/m.exec(r.stderr)?.[1];
}
