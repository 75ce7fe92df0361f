// Files a test run keeps for people to look at (screenshots): under the run folder, which scripts/setup.sh
// and npm test use too (KEYLESS_RUN_DIR, default .test-run/ in the checkout; ignored by git).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** `<run folder>/artifacts/<name>`, created. */
export async function artifactDir(name: string): Promise<string> {
  const dir = join(process.env.KEYLESS_RUN_DIR ?? join(REPO_ROOT, '.test-run'), 'artifacts', name);
  await mkdir(dir, { recursive: true });
  return dir;
}
