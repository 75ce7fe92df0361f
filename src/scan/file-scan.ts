// One file's bytes, pushed in pieces as they stream by (from a tar entry, a read stream), scanned in
// bounded memory without ever decoding bytes that cannot hold a credential:
// - the kernel finds candidate offsets (key-id prefixes, secret-key and session-token names); a
//   piece without any is done with;
// - a file up to SMALL_FILE_BYTES is scanned whole (exact lines, pairing across the file) when it has
//   a candidate; its pieces are copied only when it spans more than one;
// - a larger file is scanned in windows around its candidates (WINDOW_BEFORE / WINDOW_AFTER bytes,
//   merged when they overlap), each started at a line start where one is near, with the line number
//   from a running newline count. A key id and its secret within the ±1,024-byte pairing window are
//   always in one window, as are an assignment and its value; a window goes on to the end of the
//   line its end falls in (at most LINE_REACH bytes), so no value is cut;
// - a NUL byte in the first 8 KiB marks a binary file: it is scanned in windows around its
//   candidates like a large file (a key compiled into a program is a leak too), NUL bytes being only
//   separators there, and its findings give a byte offset instead of a line. Random bytes practically
//   never hold a bounded key id or a 40-character secret next to one (about 1 in 10^9 per position
//   for the id prefix alone), so this adds no noise (test/fixtures/scan/ok.binary-*).
import { detectCredentials, type DetectOptions } from './detectors.js';
import { scanKernel, type ScanKernel } from './kernel.js';
import type { Finding } from './types.js';

export const SMALL_FILE_BYTES = 1024 * 1024;
export const BINARY_SNIFF_BYTES = 8192;
const WINDOW_BEFORE = 2048;
const WINDOW_AFTER = 4096;
/** Bytes of a large file kept from earlier pieces, so a window can start before the current piece. */
const TAIL_BYTES = 8192;
/** Pairing reach the detectors use (PAIR_WINDOW + a secret's length + 1): a window keeps it before its first candidate. */
const PAIR_REACH = 1024 + 41;
/** A window goes on past its end to the end of that line, at most this far, so no value is cut in two. */
const LINE_REACH = 16384;
/** Bytes each side of a piece boundary searched together, for a candidate cut in two ("security_token" is 14). */
const JOINT_BYTES = 16;

const out = new Uint32Array(4096);

interface Window {
  from: number;
  to: number;
  firstHit: number;
  /** newlines in the file before `from` */
  linesBefore: number;
  parts: Buffer[];
  /** file offset up to which bytes are collected */
  have: number;
  /** collected through `to` and on to the end of that line (or LINE_REACH past `to`) */
  done: boolean;
}

function hasNul(buf: Buffer, start: number, end: number): boolean {
  return buf.subarray(start, Math.min(end, start + BINARY_SNIFF_BYTES)).indexOf(0) !== -1;
}

const EMPTY = Buffer.alloc(0);

/**
 * Collects a window's bytes from a piece (file offsets [segStart, segEnd) at buf[start…]): through
 * its end, then on to the end of that line, so that a value its end falls in (a long session token)
 * is whole. Without that, a window capped at SMALL_FILE_BYTES cut a token, and the cut value was
 * reported (first, so kept) instead of the whole one a later window saw.
 */
function collect(w: Window, buf: Buffer, start: number, segStart: number, segEnd: number): void {
  const take = (to: number): void => {
    w.parts.push(Buffer.from(buf.subarray(start + (w.have - segStart), start + (to - segStart))));
    w.have = to;
  };
  if (w.have < w.to) {
    take(Math.min(w.to, segEnd));
    if (w.have < w.to) return;
  }
  const limit = Math.min(segEnd, w.to + LINE_REACH);
  if (w.have < limit) {
    const nl = buf.subarray(start + (w.have - segStart), start + (limit - segStart)).indexOf(10);
    if (nl !== -1) {
      take(w.have + nl + 1);
      w.done = true;
      return;
    }
    take(limit);
  }
  w.done = w.have >= w.to + LINE_REACH;
}

export class FileScanner {
  private pos = 0;
  private binary: boolean | undefined;
  private whole: Buffer | undefined; // small file spanning pieces: its bytes so far
  private wholeLen = 0;
  private large = false;
  private lines = 0; // large file: newlines in [0, pos)
  private tail: Buffer = EMPTY; // large file: bytes [pos - tail.length, pos)
  private windows: Window[] = [];
  private findings: Finding[] | undefined;
  private seen: Set<string> | undefined;
  /** within the piece being pushed: a file offset and the newlines before it */
  private cursor = 0;
  private cursorLines = 0;
  private size: number | undefined;
  private describe: () => DetectOptions['base'];

  /**
   * size: the file's length when known (tar entries), else undefined (streams): then the first
   * SMALL_FILE_BYTES are held until the file proves larger. describe: where findings are (asked
   * only when there are some).
   */
  constructor(
    size: number | undefined,
    describe: () => DetectOptions['base'],
    private readonly kernel: ScanKernel = scanKernel(),
  ) {
    this.size = size;
    this.describe = describe;
    this.large = size !== undefined && size > SMALL_FILE_BYTES;
  }

  /** The same scanner for the next file (one per layer, not one per file: less garbage). */
  reset(size: number | undefined, describe: () => DetectOptions['base']): void {
    this.size = size;
    this.describe = describe;
    this.large = size !== undefined && size > SMALL_FILE_BYTES;
    this.pos = 0;
    this.binary = undefined;
    this.whole = undefined;
    this.wholeLen = 0;
    this.lines = 0;
    this.tail = EMPTY;
    if (this.windows.length > 0) this.windows = [];
    this.findings = undefined;
    this.seen = undefined;
  }

  /** Bytes buf[start, end) are the file's next bytes. The buffer is not kept after the call. */
  push(buf: Buffer, start: number, end: number): void {
    const len = end - start;
    if (len <= 0) return;
    if (!this.large && this.pos === 0 && this.size === len) {
      // the whole file in one piece: the common case, nothing copied, the sniff only when needed
      if (this.kernel.candidates(buf, start, end, out) === 0) {
        this.pos = len;
        return;
      }
      if (!hasNul(buf, start, end)) {
        this.pos = len;
        this.binary = false;
        this.detect(buf.subarray(start, end), 0, 0);
        return;
      }
      this.binary = true;
      this.large = true;
      this.pushLarge(buf, start, end);
      return;
    }
    if (this.binary === undefined && this.sniff(buf, start, end)) {
      // binary: windows around candidates, whatever the size (bytes held so far are replayed)
      if (!this.large) {
        if (this.wholeLen > 0) this.becomeLarge();
        else this.large = true;
      }
    }
    if (!this.large) {
      if (this.size === undefined && this.wholeLen + len > SMALL_FILE_BYTES) {
        this.becomeLarge();
      } else {
        if (!this.whole) this.whole = Buffer.allocUnsafe(this.size ?? SMALL_FILE_BYTES);
        buf.copy(this.whole, this.wholeLen, start, end);
        this.wholeLen += len;
        this.pos += len;
        return;
      }
    }
    this.pushLarge(buf, start, end);
  }

  /** The findings, once every byte was pushed. */
  end(): Finding[] {
    if (!this.large) {
      if (this.whole) {
        const data = this.whole.subarray(0, this.wholeLen);
        if (this.kernel.candidates(data, 0, data.length, out) > 0) this.detect(data, 0, 0);
        this.whole = undefined;
      }
      return this.findings ?? [];
    }
    for (const w of this.windows) this.runWindow(w);
    this.windows = [];
    return this.findings ?? [];
  }

  /** Looks for a NUL in the first BINARY_SNIFF_BYTES; true when the file is binary. */
  private sniff(buf: Buffer, start: number, end: number): boolean {
    const stop = Math.min(end, start + Math.max(0, BINARY_SNIFF_BYTES - this.pos));
    if (hasNul(buf, start, stop)) this.binary = true;
    else if (this.pos + (end - start) >= BINARY_SNIFF_BYTES) this.binary = false;
    else if (this.size !== undefined && this.pos + (end - start) >= this.size) this.binary = false;
    return this.binary === true;
  }

  /** A stream that outgrew SMALL_FILE_BYTES: replay what was held through the large-file path. */
  private becomeLarge(): void {
    this.large = true;
    const held = this.whole ? this.whole.subarray(0, this.wholeLen) : Buffer.alloc(0);
    this.whole = undefined;
    this.wholeLen = 0;
    this.pos = 0;
    if (held.length > 0) this.pushLarge(held, 0, held.length);
  }

  private pushLarge(buf: Buffer, start: number, end: number): void {
    const segStart = this.pos;
    const len = end - start;
    const k = this.kernel;
    // a candidate across the boundary with the previous piece: search the joint
    this.cursor = segStart;
    this.cursorLines = this.lines;
    if (this.tail.length > 0) {
      const joint = Buffer.concat([
        this.tail.subarray(Math.max(0, this.tail.length - JOINT_BYTES)),
        buf.subarray(start, Math.min(end, start + JOINT_BYTES)),
      ]);
      const back = Math.min(JOINT_BYTES, this.tail.length);
      const n = k.candidates(joint, 0, joint.length, out);
      for (let i = 0; i < Math.min(n, out.length); i++) {
        const at = out[i] as number;
        if (at < back) this.hit(segStart - back + at, buf, start);
      }
    }
    const n = k.candidates(buf, start, end, out);
    if (n > out.length) {
      // too many to list: one window over the whole piece
      this.hit(segStart, buf, start, segStart + len + WINDOW_AFTER);
    } else {
      for (let i = 0; i < n; i++) this.hit(segStart + (out[i] as number), buf, start);
    }
    // collect bytes for open windows, run the complete ones
    const segEnd = segStart + len;
    const still: Window[] = [];
    for (const w of this.windows) {
      if (w.have < segEnd) collect(w, buf, start, segStart, segEnd);
      if (w.done) this.runWindow(w);
      else still.push(w);
    }
    this.windows = still;
    if (this.binary !== true) this.lines += k.countByte(buf, start, end, 10);
    if (len >= TAIL_BYTES) this.tail = Buffer.from(buf.subarray(end - TAIL_BYTES, end));
    else {
      const joined = Buffer.concat([this.tail, buf.subarray(start, end)]);
      this.tail = joined.subarray(Math.max(0, joined.length - TAIL_BYTES));
    }
    this.pos = segEnd;
  }

  /** A candidate at file offset at, found while the piece starting at file offset this.pos is pushed. */
  private hit(at: number, buf: Buffer, start: number, reach = at + WINDOW_AFTER): void {
    const segStart = this.pos;
    const to = Math.min(reach, this.size ?? Number.MAX_SAFE_INTEGER);
    const last = this.windows[this.windows.length - 1];
    // merge into the open window, unless it is already as large as a small file (bounded memory:
    // dense candidates then give overlapping windows, whose findings are deduplicated)
    if (last && at - WINDOW_BEFORE <= last.to && last.to - last.from < SMALL_FILE_BYTES) {
      last.to = Math.max(last.to, to);
      return;
    }
    const tailFrom = segStart - this.tail.length;
    const from = Math.max(0, at - WINDOW_BEFORE, tailFrom);
    let linesBefore = this.lines;
    const parts: Buffer[] = [];
    if (from < segStart) {
      const t = this.tail.subarray(from - tailFrom);
      if (this.binary !== true) linesBefore -= this.kernel.countByte(t, 0, t.length, 10);
      parts.push(Buffer.from(t));
    } else if (this.binary !== true) {
      // windows start in order within a piece: count on from where the last one started
      linesBefore =
        this.cursorLines +
        this.kernel.countByte(buf, start + (this.cursor - segStart), start + (from - segStart), 10);
      this.cursor = from;
      this.cursorLines = linesBefore;
    }
    this.windows.push({
      from,
      to,
      firstHit: at,
      linesBefore,
      parts,
      have: Math.max(from, segStart),
      done: false,
    });
  }

  private runWindow(w: Window): void {
    let data = w.parts.length === 1 ? (w.parts[0] as Buffer) : Buffer.concat(w.parts);
    let from = w.from;
    let linesBefore = w.linesBefore;
    if (from > 0 && this.binary !== true) {
      // start at a line start, if one comes early enough to keep the pairing reach before the first hit
      const nl = data.indexOf(10);
      if (nl !== -1 && from + nl + 1 <= w.firstHit - PAIR_REACH) {
        data = data.subarray(nl + 1);
        from += nl + 1;
        linesBefore += 1;
      }
    }
    this.detect(data, linesBefore, from);
  }

  private detect(data: Buffer, linesBefore: number, from: number): void {
    const binary = this.binary === true;
    for (const f of detectCredentials(data.toString('latin1'), { base: this.describe(), binary })) {
      if (f.location.line !== undefined) f.location.line += linesBefore;
      if (f.location.offset !== undefined) {
        f.location.offset += from;
        f.message += ` (binary file, byte ${f.location.offset})`;
      }
      const key = `${f.rule}\0${f.location.line}\0${f.location.column}\0${f.location.offset}`;
      this.seen ??= new Set();
      this.findings ??= [];
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.findings.push(f);
    }
  }
}
