// The package version, read once from package.json (dist/src/cli → ../../../package.json).
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function keylessVersion(): string {
  if (cached === undefined) {
    try {
      const url = new URL('../../../package.json', import.meta.url);
      cached = (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
    } catch {
      cached = '0.0.0';
    }
  }
  return cached;
}
