// Regular files from a directory or the command line, read for the FileScanner with as little per-file
// cost as the file allows. A file that fits the caller's slot buffer is read with synchronous calls
// (open, fstat, one read, close: a few microseconds from the page cache, where each promise-based call
// cost ~20 µs and a 1 MiB read-stream buffer per file made directory scans mostly garbage collection);
// a larger one streams through readAhead; anything else (a FIFO, a device) through a read stream.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { readAhead } from '../util/read-ahead.js';
import { FileScanner } from './file-scan.js';
import { scanChunks } from './stream-text.js';
import type { Finding } from './types.js';

export const SLOT_BYTES = 1024 * 1024;

let shared: Buffer | undefined;

/**
 * Credential findings in one file; slot is a scratch buffer (one is shared when none is given).
 * regular: the caller knows it is a regular file (a directory entry said so): then no fstat, a read
 * shorter than the slot is the whole file.
 */
export async function scanPlainFile(path: string, slot?: Buffer, regular = false): Promise<Finding[]> {
  const buf = slot ?? (shared ??= Buffer.allocUnsafe(SLOT_BYTES));
  const fd = openSync(path, 'r');
  let size: number;
  try {
    if (regular) {
      const n = readSync(fd, buf, 0, buf.length, 0);
      if (n < buf.length) {
        const file = new FileScanner(n, () => ({ path }));
        file.push(buf, 0, n);
        return file.end();
      }
    }
    const st = fstatSync(fd);
    if (!st.isFile())
      return await scanChunks(createReadStream(path, { highWaterMark: 1 << 16 }), { base: { path } });
    size = st.size;
    if (size <= buf.length) {
      let have = 0;
      while (have < size) {
        const n = readSync(fd, buf, have, size - have, have);
        if (n === 0) break; // the file shrank meanwhile: scan what there is
        have += n;
      }
      const file = new FileScanner(have, () => ({ path }));
      file.push(buf, 0, have);
      return file.end();
    }
  } finally {
    closeSync(fd);
  }
  const file = new FileScanner(undefined, () => ({ path }));
  for await (const piece of readAhead(path, { reuse: true })) file.push(piece, 0, piece.length);
  return file.end();
}
