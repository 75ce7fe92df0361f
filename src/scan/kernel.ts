// The scan kernel: where in a byte range a credential may begin, and how many newlines it holds.
// The native one (native/scan_kernel.c, built by scripts/build-native.sh into dist/native) tests 32
// positions per step with AVX2; the JavaScript one answers exactly the same and runs where the native
// one could not be built (KEYLESS_SCAN_KERNEL=js forces it, for comparison).
import { createRequire } from 'node:module';

export interface ScanKernel {
  /** "native-avx2", "native-ssse3", "native-scalar" or "js" */
  readonly name: string;
  /**
   * Offsets (relative to start) in buf[start, end) where an access-key-id prefix (AKIA, ASIA, ABIA,
   * ACCA) begins; in any letter case "secret" sep? "access" | "key", "session" | "security" sep?
   * "token", "aws" sep? "token" | ("access" sep?)? ("key" sep?)? "secret" (sep: one of "_-. "; what
   * the name rules need); an
   * escaped "A" or a base64 anchor of a key-id prefix (what the decoders need), in order. Writes at most
   * out.length of them and returns how many there are.
   */
  candidates(buf: Buffer, start: number, end: number, out: Uint32Array): number;
  /** How many times byte occurs in buf[start, end). */
  countByte(buf: Buffer, start: number, end: number, byte: number): number;
}

const ci = (word: string): string => [...word].map((c) => `[${c}${c.toUpperCase()}]`).join('');
const SEP = '[-_. ]?';
/** Base64 of "AKIA", "ASIA", "ABIA", "ACCA" at each byte alignment: the four characters fixed there. */
export const BASE64_ANCHORS = [
  ['QUtJ', 'QVNJ', 'QUJJ', 'QUND'],
  ['FLSU', 'FTSU', 'FCSU', 'FDQ0'],
  ['BS0l', 'BU0l', 'BQkl', 'BQ0N'],
].flat();
/** An escaped "A" (the first letter of every key id): JSON, HTML (decimal, hex), URL. */
export const ESCAPED_A = ['\\u0041', '&#65;', '&#x41;', '&#X41;', '%41'];
const CANDIDATE = new RegExp(
  [
    'AKIA|ASIA|ABIA|ACCA',
    `${ci('secret')}${SEP}(?:${ci('access')}|${ci('key')})`,
    `(?:${ci('session')}|${ci('security')})${SEP}${ci('token')}`,
    `${ci('aws')}${SEP}(?:${ci('token')}|(?:${ci('access')}${SEP})?(?:${ci('key')}${SEP})?${ci('secret')})`,
    ...ESCAPED_A.map((e) => e.replace(/\\/g, '\\\\')),
    ...BASE64_ANCHORS,
  ].join('|'),
  'g',
);
/** The same search as a test (does the text hold any candidate?), for the detectors' own prefilter. */
export const CANDIDATE_TEST = new RegExp(CANDIDATE.source);

export const jsKernel: ScanKernel = {
  name: 'js',
  candidates(buf, start, end, out) {
    const text = buf.toString('latin1', start, end);
    let count = 0;
    CANDIDATE.lastIndex = 0;
    for (let m = CANDIDATE.exec(text); m; m = CANDIDATE.exec(text)) {
      if (count < out.length) out[count] = m.index;
      count++;
      CANDIDATE.lastIndex = m.index + 1; // overlapping, as the native search reports them
    }
    return count;
  },
  countByte(buf, start, end, byte) {
    let n = 0;
    for (let i = buf.indexOf(byte, start); i !== -1 && i < end; i = buf.indexOf(byte, i + 1)) n++;
    return n;
  },
};

interface NativeModule {
  simd: string;
  candidates(buf: Buffer, start: number, end: number, out: Uint32Array): number;
  countByte(buf: Buffer, start: number, end: number, byte: number): number;
  mapFile(fd: number, length: number): Buffer;
  dropPages(buf: Buffer, start: number, end: number): void;
}

/** Read-only whole-file mappings from the native module (native/scan_kernel.c). */
export interface FileMapper {
  mapFile(fd: number, length: number): Buffer;
  dropPages(buf: Buffer, start: number, end: number): void;
}

let native: NativeModule | null | undefined;
function nativeModule(): NativeModule | undefined {
  if (native === undefined) {
    try {
      const require = createRequire(import.meta.url);
      // dist/src/scan/kernel.js → dist/native/
      native = require('../../native/keyless_scan_kernel.node') as NativeModule;
    } catch {
      native = null;
    }
  }
  return native ?? undefined;
}

/** The native file mapper, unless it is not built, KEYLESS_SCAN_KERNEL=js or KEYLESS_SCAN_MMAP=0. */
export function fileMapper(): FileMapper | undefined {
  if (process.env.KEYLESS_SCAN_KERNEL === 'js' || process.env.KEYLESS_SCAN_MMAP === '0') return undefined;
  const m = nativeModule();
  return m ? { mapFile: m.mapFile, dropPages: m.dropPages } : undefined;
}

/** The native kernel, or undefined when it is not built (or cannot load on this machine). */
export function loadNativeKernel(): ScanKernel | undefined {
  const m = nativeModule();
  return m ? { name: `native-${m.simd}`, candidates: m.candidates, countByte: m.countByte } : undefined;
}

let chosen: ScanKernel | undefined;

/** The kernel scans use: native unless KEYLESS_SCAN_KERNEL=js or it is not built. */
export function scanKernel(): ScanKernel {
  if (!chosen) {
    chosen = (process.env.KEYLESS_SCAN_KERNEL === 'js' ? undefined : loadNativeKernel()) ?? jsKernel;
  }
  return chosen;
}
