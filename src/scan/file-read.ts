// Regular files from a directory or the command line, read for the scanner with as little per-file
// cost as the file allows. A file that fits SLOT_BYTES is read with synchronous calls into one shared
// buffer (open, fstat, one read, close: a few microseconds from the page cache, where each promise-based
// call cost ~20 µs and a 1 MiB read-stream buffer per file made directory scans mostly garbage
// collection) and scanned at once; a larger one streams through readAhead; anything else (a FIFO, a
// device) through a read stream.
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { readAhead } from '../util/read-ahead.js';
import { scanBuffer, scanChunks } from './stream-text.js';
import type { Finding } from './types.js';

const SLOT_BYTES = 1024 * 1024;

// Filled and scanned with no await in between, so concurrent calls never share it in flight.
let shared: Buffer | undefined;

/**
 * Credential findings in one file. regular: the caller knows it is a regular file (a directory entry
 * said so): then no fstat, and a read shorter than the buffer is the whole file.
 */
export async function scanPlainFile(path: string, regular = false): Promise<Finding[]> {
  const buf = (shared ??= Buffer.allocUnsafe(SLOT_BYTES));
  const options = { base: { path } };
  const fd = openSync(path, 'r');
  try {
    if (regular) {
      const n = readSync(fd, buf, 0, buf.length, 0);
      if (n < buf.length) return scanBuffer(buf.subarray(0, n), options);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) return await scanChunks(createReadStream(path, { highWaterMark: 1 << 16 }), options);
    if (st.size <= buf.length) {
      let have = 0;
      while (have < st.size) {
        const n = readSync(fd, buf, have, st.size - have, have);
        if (n === 0) break; // the file shrank meanwhile: scan what there is
        have += n;
      }
      return scanBuffer(buf.subarray(0, have), options);
    }
  } finally {
    closeSync(fd);
  }
  return scanChunks(readAhead(path, { reuse: true }), options);
}
