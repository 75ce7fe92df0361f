// Write a file atomically: temp file in the same folder, fsync, rename, fsync the folder.
// A crash at any point leaves either the old file or the new one, never a torn one.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, chmod, lstat, stat } from 'node:fs/promises';
import { CommonErrorCode, KeylessError } from '../errors.js';
import { basename, dirname, join } from 'node:path';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates a folder (and parents) with mode 0700. An existing one must be a real folder (not a symbolic
 * link), owned by this user and not writable by group or others (as ssh wants ~/.ssh); one that is
 * only readable by others is tightened to 0700.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = await lstat(dir);
  if (st.isSymbolicLink())
    throw new KeylessError(
      'UNSAFE_PATH',
      `${dir} is a symbolic link; keyless does not follow links for its own folders. Remove it (rm ${dir}) and let keyless create the folder, or point KEYLESS_HOME at the real one.`,
    );
  if (!st.isDirectory()) throw new KeylessError('UNSAFE_PATH', `${dir} is not a folder. Move it away.`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new KeylessError(
      'UNSAFE_PATH',
      `${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): another user could read or replace what keyless keeps there. Use your own KEYLESS_HOME, or chown -R ${uid} ${dir} if it is yours.`,
    );
  if ((st.mode & 0o022) !== 0)
    throw new KeylessError(
      'UNSAFE_PATH',
      `${dir} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): another user could replace what keyless keeps there. chmod 700 ${dir}, then check what is in it.`,
    );
  if ((st.mode & 0o077) !== 0) await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * KEYLESS_HOME itself, when it exists: a folder (a link to one is fine: it is the user's choice) owned
 * by this user and not writable by group or others, as ssh wants ~/.ssh. Nothing is created.
 */
export async function checkHomeDir(home: string): Promise<void> {
  let st;
  try {
    st = await stat(home);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isDirectory()) throw new KeylessError('UNSAFE_PATH', `KEYLESS_HOME ${home} is not a folder.`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new KeylessError(
      'UNSAFE_PATH',
      `KEYLESS_HOME ${home} belongs to uid ${st.uid}, not to you (uid ${uid}): another user could read or replace your vault. Use your own KEYLESS_HOME, or chown -R ${uid} ${home} if it is yours.`,
    );
  if ((st.mode & 0o022) !== 0)
    throw new KeylessError(
      'UNSAFE_PATH',
      `KEYLESS_HOME ${home} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${(st.mode & 0o777).toString(8)}): another user could replace what keyless keeps there. chmod 700 ${home}, then check what is in it.`,
    );
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

/**
 * A file at a path the user named (--output, --token-file, ...), written atomically. Its folder is
 * theirs: never created or re-moded. A folder that is missing or not writable is FILE_UNWRITABLE,
 * naming the option, not an internal error.
 */
export async function writeUserFile(
  option: string,
  path: string,
  data: string | Uint8Array,
  mode: number,
): Promise<void> {
  try {
    await writeFileAtomic(path, data, { mode, createDir: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    const why =
      code === 'ENOENT'
        ? 'its folder does not exist'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a folder'
            : code;
    throw new KeylessError(
      CommonErrorCode.FILE_UNWRITABLE,
      `cannot write ${option} ${path} (${why}). Name a file in a folder you can write to.`,
      { cause: err },
    );
  }
}
