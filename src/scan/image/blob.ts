// Image blobs: what a blob is, decided by its first bytes (never by its name or media type, which
// docker save and the containerd store do not keep consistent: reference/scanning.md §3.5).

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
