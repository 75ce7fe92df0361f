// Temporary folders removed after the test.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';

export async function tempDir(
  t: Pick<TestContext, 'after'> | undefined,
  prefix = 'keyless-test-',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t?.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a tree of files ({ 'a/b.txt': 'text' }) under root. */
export async function writeTree(root: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    const p = join(root, rel);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
  }
}
