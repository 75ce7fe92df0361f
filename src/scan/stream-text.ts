// Scans a stream of bytes (a file in a directory, a blob) or one buffer in bounded memory, through
// the FileScanner (file-scan.ts): the kernel's candidates decide what is decoded and handed to the
// detectors; files up to SMALL_FILE_BYTES are scanned whole, larger ones in windows around their
// candidates, binaries (a NUL in the first 8 KiB) never.
import { FileScanner, SMALL_FILE_BYTES } from './file-scan.js';
import type { DetectOptions } from './detectors.js';
import { scanKernel } from './kernel.js';
import type { Finding } from './types.js';

/** Files up to this size are scanned whole. */
export const SEGMENT_BYTES = SMALL_FILE_BYTES;

const probe = new Uint32Array(1);

/** True when the bytes may hold a credential (a key-id prefix, "secret" or "token"); false means no detector can match. */
export function mayHoldCredential(buf: Buffer): boolean {
  return scanKernel().candidates(buf, 0, buf.length, probe) > 0;
}

/** Credential findings in one buffer (a whole file). */
export function scanBuffer(buf: Buffer, options: DetectOptions): Finding[] {
  const file = new FileScanner(buf.length, () => options.base);
  file.push(buf, 0, buf.length);
  return file.end();
}

/** Credential findings in a stream of bytes, in bounded memory; the stream is always read to its end. */
export async function scanChunks(
  chunks: AsyncIterable<Uint8Array>,
  options: DetectOptions,
): Promise<Finding[]> {
  const file = new FileScanner(undefined, () => options.base);
  for await (const chunk of chunks) {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    file.push(buf, 0, buf.length);
  }
  return file.end();
}
