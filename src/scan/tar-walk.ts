// A push-based tar reader for scanning: bytes go in as they arrive (any piece sizes), entries come out
// as a header and views of their data, with no copy and no per-entry stream or promise. Reads ustar,
// POSIX pax (path, linkpath, size) and GNU (long names, base-256 sizes) headers, as docker save,
// BuildKit and containerd write them. Names are decoded only when asked for. Extracting is never done:
// names are only text here.
import { KeylessError } from '../errors.js';

export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'other';

export interface TarEntry {
  type: TarEntryType;
  size: number;
  /** the entry's path as stored (pax and GNU long names applied) */
  name(): string;
  linkname(): string | undefined;
}

/**
 * What takes an entry's data. The views passed to data() are valid only during the call (the
 * caller may reuse its buffers): copy what must outlive it.
 */
export interface TarEntrySink {
  data(buf: Buffer, start: number, end: number): void | Promise<void>;
  end(): void | Promise<void>;
}

const BLOCK = 512;
/** pax records and GNU long names are kept whole until their entry: at most this many bytes */
const MAX_META_BYTES = 1024 * 1024;

function parseOctal(b: Buffer, off: number, len: number): number {
  if ((b[off] as number) & 0x80) {
    // GNU base-256: big-endian, the first byte's high bit is the marker
    let n = (b[off] as number) & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + (b[off + i] as number);
    return n;
  }
  let n = 0;
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
  for (; i < end; i++) {
    const c = b[i] as number;
    if (c < 0x30 || c > 0x37) break;
    n = n * 8 + (c - 0x30);
  }
  return n;
}

function cString(b: Buffer, off: number, len: number): string {
  const nul = b.indexOf(0, off);
  const end = nul === -1 || nul > off + len ? off + len : nul;
  return b.toString('utf8', off, end);
}

function checksumOk(b: Buffer, off: number): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[off + i] as number);
  return sum === parseOctal(b, off + 148, 8);
}

function typeOf(flag: number): TarEntryType | 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link' {
  switch (flag) {
    case 0:
    case 0x30: // '0'
    case 0x37: // '7' contiguous
      return 'file';
    case 0x31:
      return 'link';
    case 0x32:
      return 'symlink';
    case 0x35:
      return 'directory';
    case 0x78: // 'x'
      return 'pax';
    case 0x67: // 'g'
      return 'pax-global';
    case 0x4c: // 'L'
      return 'gnu-long-name';
    case 0x4b: // 'K'
      return 'gnu-long-link';
    default:
      return 'other';
  }
}

/** path, linkpath and size from pax records ("LEN key=value\n"...). */
function parsePax(b: Buffer): { path?: string; linkpath?: string; size?: number } {
  const out: { path?: string; linkpath?: string; size?: number } = {};
  let i = 0;
  while (i < b.length) {
    const sp = b.indexOf(0x20, i);
    if (sp === -1) break;
    const len = Number(b.toString('latin1', i, sp));
    if (!Number.isInteger(len) || len <= 0 || i + len > b.length) break;
    const rec = b.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) {
      const key = rec.slice(0, eq);
      const value = rec.slice(eq + 1);
      if (key === 'path') out.path = value;
      else if (key === 'linkpath') out.linkpath = value;
      else if (key === 'size' && /^\d+$/.test(value)) out.size = Number(value);
    }
    i += len;
  }
  return out;
}

/**
 * Feeds tar bytes through; onEntry gets each entry (file, link, directory...) and returns where its
 * data goes, or undefined to skip the data.
 */
export class TarWalker {
  private header = Buffer.alloc(BLOCK);
  private headerHave = 0;
  /** data bytes left in the current entry, then its padding */
  private dataLeft = 0;
  private padLeft = 0;
  private sink: TarEntrySink | undefined;
  /** pax / GNU long-name data being collected */
  private meta:
    { kind: 'pax' | 'pax-global' | 'gnu-long-name' | 'gnu-long-link'; parts: Buffer[] } | undefined;
  private next: { path?: string; linkpath?: string; size?: number } = {};
  private ended = false;
  private entries = 0;
  /** the entry whose data is being passed on, while its name may still point into a piece */
  private open: TarEntry | undefined;

  constructor(
    private readonly onEntry: (entry: TarEntry) => TarEntrySink | undefined,
    private readonly label: string,
  ) {}

  /** The next bytes of the archive. */
  async push(chunk: Buffer): Promise<void> {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.dataLeft > 0) {
        const take = Math.min(this.dataLeft, n - i);
        if (this.sink) {
          const r = this.sink.data(chunk, i, i + take);
          if (r) await r;
        } else if (this.meta) {
          this.meta.parts.push(Buffer.from(chunk.subarray(i, i + take)));
        }
        this.dataLeft -= take;
        i += take;
        if (this.dataLeft === 0) {
          const r = this.finishEntry();
          if (r) await r;
        }
        continue;
      }
      if (this.padLeft > 0) {
        const take = Math.min(this.padLeft, n - i);
        this.padLeft -= take;
        i += take;
        continue;
      }
      if (this.ended) break;
      // a header: straight from the chunk when it is all there, else assembled
      let hb: Buffer;
      let ho: number;
      if (this.headerHave === 0 && n - i >= BLOCK) {
        hb = chunk;
        ho = i;
        i += BLOCK;
      } else {
        const take = Math.min(BLOCK - this.headerHave, n - i);
        chunk.copy(this.header, this.headerHave, i, i + take);
        this.headerHave += take;
        i += take;
        if (this.headerHave < BLOCK) break;
        this.headerHave = 0;
        hb = this.header;
        ho = 0;
      }
      const r = this.onHeader(hb, ho);
      if (r) await r;
    }
    this.keepName();
  }

  /** The open entry's name and link decoded now: the piece its header is in may be reused. */
  private keepName(): void {
    if (this.open) freezeNames(this.open);
    this.open = undefined;
  }

  /** The archive ended: the last entry must be whole. */
  async end(): Promise<void> {
    if (this.dataLeft > 0 || this.headerHave > 0) {
      throw new KeylessError(
        'SCAN_TAR_TRUNCATED',
        `${this.label}: the tar archive ends in the middle of an entry (truncated download or copy?). Produce it again and scan again.`,
      );
    }
  }

  private onHeader(b: Buffer, o: number): void | Promise<void> {
    if (b[o] === 0 && b[o + 148] === 0 && b[o + 156] === 0 && b[o + 257] === 0) {
      // a zero block: the end-of-archive marker (two of them); what follows is padding
      if (this.entries === 0 || isZero(b, o)) {
        this.ended = this.entries > 0;
        return;
      }
    }
    const ustar = b[o + 257] === 0x75 && b.toString('latin1', o + 257, o + 262) === 'ustar';
    if (!ustar && !checksumOk(b, o)) {
      throw new KeylessError(
        'SCAN_TAR_INVALID',
        `${this.label}: not a tar archive (bad header at entry ${this.entries + 1}). A compressed layer is found by its magic bytes; anything else is unreadable: re-export it (docker save) and scan again.`,
      );
    }
    this.entries++;
    const flag = b[o + 156] as number;
    const kind = typeOf(flag);
    let size = parseOctal(b, o + 124, 12);
    const next = this.next;
    if (next.size !== undefined && kind !== 'pax' && kind !== 'pax-global') size = next.size;
    if (kind === 'link' || kind === 'symlink' || kind === 'directory') size = 0;
    this.dataLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (kind === 'pax' || kind === 'pax-global' || kind === 'gnu-long-name' || kind === 'gnu-long-link') {
      if (size > MAX_META_BYTES) {
        // held in memory whole: a hostile archive must not make it grow without end
        throw new KeylessError(
          'SCAN_TAR_INVALID',
          `${this.label}: a ${kind} header of ${size} bytes at entry ${this.entries} (more than ${MAX_META_BYTES}); refusing a hostile or damaged archive.`,
        );
      }
      this.meta = { kind, parts: [] };
      this.sink = undefined;
      return size === 0 ? this.finishEntry() : undefined;
    }
    this.next = {};
    // POSIX ustar keeps a path prefix at 345; GNU ("ustar  ") has other fields there
    const posix = ustar && b[o + 262] === 0;
    const header = b;
    const at = o;
    let nameCache: string | undefined;
    const entry: TarEntry = {
      type: kind,
      size,
      name: () => {
        if (nameCache !== undefined) return nameCache;
        if (next.path !== undefined) nameCache = next.path;
        else {
          const base = cString(header, at, 100);
          const prefix = posix && header[at + 345] !== 0 ? cString(header, at + 345, 155) : '';
          nameCache = prefix ? `${prefix}/${base}` : base;
        }
        return nameCache;
      },
      linkname: () => next.linkpath ?? (header[at + 157] === 0 ? undefined : cString(header, at + 157, 100)),
    };
    // the assembled header block is reused: decode what a sink might ask for later, now
    if (header === this.header) freezeNames(entry);
    this.sink = this.onEntry(entry);
    if (size > 0) this.open = entry;
    return size === 0 ? this.finishEntry() : undefined;
  }

  private finishEntry(): void | Promise<void> {
    if (this.meta) {
      const data = Buffer.concat(this.meta.parts);
      const kind = this.meta.kind;
      this.meta = undefined;
      if (kind === 'pax') this.next = { ...this.next, ...parsePax(data) };
      else if (kind === 'gnu-long-name') this.next.path = cString(data, 0, data.length);
      else if (kind === 'gnu-long-link') this.next.linkpath = cString(data, 0, data.length);
      return;
    }
    const sink = this.sink;
    this.sink = undefined;
    this.open = undefined;
    return sink?.end();
  }
}

/** Decodes an entry's name and link now, so they no longer read the header's bytes. */
function freezeNames(e: TarEntry): void {
  const name = e.name();
  const link = e.linkname();
  e.name = () => name;
  e.linkname = () => link;
}

function isZero(b: Buffer, o: number): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[o + i] !== 0) return false;
  return true;
}
