// Write a file atomically: temp file in the same folder, fsync, rename, fsync the folder.
// A crash at any point leaves either the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, chmod, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** Creates a folder (and parents) with mode 0700; tightens an existing one that is looser. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = await stat(dir);
  if ((st.mode & 0o077) !== 0) await chmod(dir, PRIVATE_DIR_MODE);
}

export interface AtomicWriteOptions {
  /** default 0600 */
  mode?: number;
  /** create the parent folder with mode 0700 when missing (default true) */
  createDir?: boolean;
}

export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const mode = options.mode ?? PRIVATE_FILE_MODE;
  const dir = dirname(path);
  if (options.createDir ?? true) await ensurePrivateDir(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
