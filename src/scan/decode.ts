// Decoders (pure): the encoded forms keys hide in — a credentials file base64-encoded into a YAML
// value (Kubernetes secrets, CI variables), JSON string escapes (\u0041), URL-encoding (%2F) and HTML
// entities (&#65; &quot;). Each returns the decoded text of a span and where that span starts, so
// the detectors can scan it and place a finding at the encoded text. Bounded: base64 runs up to
// MAX_BASE64_CHARS, decoded only when they decode to text; the caller bounds the depth.
import { BASE64_ANCHORS } from './kernel.js';
import type { Decoding } from './types.js';

export interface DecodedSpan {
  decoding: Decoding;
  /** index in the source text where the encoded span starts */
  at: number;
  /** the decoded text; line breaks are kept where they were, so lines still count the same */
  text: string;
}

/** The longest base64 run decoded (a 1 MiB encoded credentials file is already far beyond any). */
export const MAX_BASE64_CHARS = 1024 * 1024;
/** A base64 run this short cannot hold a key id with its name. */
const MIN_BASE64_CHARS = 24;

const ANCHOR = new RegExp(BASE64_ANCHORS.join('|'), 'g');
const B64_CHAR = /[A-Za-z0-9+/_-]/;

/** Text, not bytes: no NUL or other control byte but tab, CR and LF, and valid UTF-8. */
function asText(bytes: Buffer): string | undefined {
  for (const b of bytes) if (b < 32 && b !== 9 && b !== 10 && b !== 13) return undefined;
  const text = bytes.toString('utf8');
  return text.includes('\uFFFD') ? undefined : text;
}

/**
 * Base64 (or base64url) runs that hold an anchor of a key-id prefix and decode to text. Each run is
 * decoded from its start, as a value is encoded from its first byte.
 */
export function base64Spans(text: string): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  let after = 0;
  ANCHOR.lastIndex = 0;
  for (let m = ANCHOR.exec(text); m; m = ANCHOR.exec(text)) {
    if (m.index < after) continue;
    let from = m.index;
    while (from > 0 && B64_CHAR.test(text[from - 1] as string) && m.index - from < MAX_BASE64_CHARS) from--;
    let to = m.index;
    while (to < text.length && B64_CHAR.test(text[to] as string) && to - from < MAX_BASE64_CHARS) to++;
    while (text[to] === '=' && to - from < MAX_BASE64_CHARS) to++;
    after = to;
    ANCHOR.lastIndex = to;
    if (to - from < MIN_BASE64_CHARS) continue;
    const run = text.slice(from, to);
    const decoded = asText(Buffer.from(run, /[-_]/.test(run) ? 'base64url' : 'base64'));
    if (decoded !== undefined) out.push({ decoding: 'base64', at: from, text: decoded });
  }
  return out;
}

const JSON_ESCAPE = /\\u([0-9a-fA-F]{4})|\\\//g;
const URL_ESCAPE = /%([0-9a-fA-F]{2})/g;
const HTML_ENTITY =
  /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|(quot|amp|lt|gt|apos|sol|plus|equals|colon|lowbar));/g;
const NAMED: Record<string, string> = {
  quot: '"',
  amp: '&',
  lt: '<',
  gt: '>',
  apos: "'",
  sol: '/',
  plus: '+',
  equals: '=',
  colon: ':',
  lowbar: '_',
};

/** A decoded character, unless it would break or join lines (lines must keep their numbers). */
function keepLines(code: number, original: string): string {
  if (code === 10 || code === 13 || !Number.isFinite(code) || code > 0x10ffff) return original;
  return String.fromCodePoint(code);
}

/** The whole text with one kind of escape decoded, when it holds any; lines keep their numbers. */
export function escapeSpans(text: string): DecodedSpan[] {
  const out: DecodedSpan[] = [];
  if (text.includes('\\u') || text.includes('\\/')) {
    const decoded = text.replace(JSON_ESCAPE, (all, hex: string | undefined) =>
      hex === undefined ? '/' : keepLines(parseInt(hex, 16), all),
    );
    if (decoded !== text) out.push({ decoding: 'json-escape', at: 0, text: decoded });
  }
  if (text.includes('%')) {
    const decoded = text.replace(URL_ESCAPE, (all, hex: string) => keepLines(parseInt(hex, 16), all));
    if (decoded !== text) out.push({ decoding: 'url', at: 0, text: decoded });
  }
  if (text.includes('&')) {
    const decoded = text.replace(
      HTML_ENTITY,
      (all, dec: string | undefined, hex: string | undefined, name: string | undefined) =>
        name !== undefined
          ? (NAMED[name] as string)
          : keepLines(dec !== undefined ? parseInt(dec, 10) : parseInt(hex as string, 16), all),
    );
    if (decoded !== text) out.push({ decoding: 'html', at: 0, text: decoded });
  }
  return out;
}
