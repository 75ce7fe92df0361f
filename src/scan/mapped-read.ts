// A regular file's bytes in pieces, read in place from the page cache through one read-only mapping
// of the whole file (native/scan_kernel.c mapFile), as ripgrep reads: no copy into the process.
// Pages already scanned are handed back DROP_BYTES at a time (dropPages), so resident memory stays
// about that, whatever the file's size; a piece a consumer still holds stays readable (its pages
// come back from the page cache). Measured on a 1 GiB docker-save tarball here: 0.16 s against
// 0.25 s reading it into buffers, 74 MB peak RSS. A file truncated while it is mapped makes the
// process fail with SIGBUS, as ripgrep does; KEYLESS_SCAN_MMAP=0 reads instead.
// Without the native module, or for an empty file: readAhead.
import { open } from 'node:fs/promises';
import { readAhead } from '../util/read-ahead.js';
import { fileMapper } from './kernel.js';

export const DEFAULT_PIECE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_DROP_BYTES = 16 * 1024 * 1024;

export interface MappedReadOptions {
  /** for tests: piece and drop sizes (defaults 4 MiB and 16 MiB) */
  pieceBytes?: number;
  dropBytes?: number;
}

export async function* mappedRead(path: string, options: MappedReadOptions = {}): AsyncGenerator<Buffer> {
  const PIECE_BYTES = options.pieceBytes ?? DEFAULT_PIECE_BYTES;
  const DROP_BYTES = options.dropBytes ?? DEFAULT_DROP_BYTES;
  const mapper = fileMapper();
  const fh = mapper ? await open(path, 'r') : undefined;
  let map: Buffer | undefined;
  try {
    const size = fh ? (await fh.stat()).size : 0;
    if (mapper && fh && size > 0) {
      try {
        map = mapper.mapFile(fh.fd, size);
      } catch {
        map = undefined; // a file system that cannot map: read it
      }
    }
  } finally {
    // the mapping outlives the descriptor
    await fh?.close();
  }
  if (!mapper || !map) {
    yield* readAhead(path, { reuse: true });
    return;
  }
  let dropped = 0;
  for (let p = 0; p < map.length; p += PIECE_BYTES) {
    const end = Math.min(map.length, p + PIECE_BYTES);
    yield map.subarray(p, end);
    // the consumer is done with everything before `end` (never past the file: issue 21.9, a file
    // whose last piece is short once stepped over its end here)
    while (end - dropped >= DROP_BYTES) {
      mapper.dropPages(map, dropped, dropped + DROP_BYTES);
      dropped += DROP_BYTES;
    }
  }
}
