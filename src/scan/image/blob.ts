// Image blobs: what a blob is, decided by its first bytes (never by its name or media type, which
// docker save and the containerd store do not keep consistent: reference/scanning.md §3.5), and a
// streaming decompressor for layers that are gzip, zstd or plain tar.
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type BlobKind = 'gzip' | 'zstd' | 'tar' | 'json' | 'other';

/** Bytes needed to tell the kinds apart (tar's "ustar" magic sits at offset 257). */
export const SNIFF_BYTES = 512;

export function sniffBlob(head: Buffer): BlobKind {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  for (const b of head) {
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b ? 'json' : 'other';
  }
  return 'other';
}

/** The first bytes of a stream and the whole stream again (those bytes included). */
export async function peek(
  source: AsyncIterable<Buffer>,
  bytes = SNIFF_BYTES,
): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let size = 0;
  let done = false;
  while (size < bytes) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    seen.push(r.value);
    size += r.value.length;
  }
  async function* again(): AsyncGenerator<Buffer> {
    yield* seen;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head: Buffer.concat(seen).subarray(0, bytes), stream: again() };
}

async function* unzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  // fzstd hands out views of its own window buffer: copy before the next push overwrites them
  const d = new Decompress((chunk) => void out.push(Buffer.from(chunk)));
  for await (const c of source) {
    d.push(c);
    if (out.length > 0) yield* out.splice(0);
  }
  d.push(new Uint8Array(0), true);
  yield* out.splice(0);
}

/** The uncompressed tar bytes of a layer blob of the given kind. */
export function layerTar(
  kind: 'gzip' | 'zstd' | 'tar',
  source: AsyncIterable<Buffer>,
): AsyncIterable<Buffer> {
  if (kind === 'tar') return source;
  if (kind === 'zstd') return unzstd(source);
  const input = Readable.from(source, { objectMode: false });
  const gunzip = createGunzip();
  input.on('error', (err) => gunzip.destroy(err));
  return input.pipe(gunzip);
}

/** Reads a whole (small) stream; undefined when it is longer than limit bytes (the rest is drained). */
export async function readAll(source: AsyncIterable<Buffer>, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const c of source) {
    size += c.length;
    if (size <= limit) parts.push(c);
  }
  return size <= limit ? Buffer.concat(parts) : undefined;
}
