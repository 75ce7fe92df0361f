// Scanner fixture folders (test/fixtures/scan/{ok,ng}.<case>/input + expected.json). Committed inputs
// hold placeholders ({{AKIA_1}}, {{SECRET_1}}, {{TOKEN_1}}, ...) that are expanded here into freshly
// generated values, so no AWS-shaped key is ever committed. {{encode:KIND}}...{{/encode}} encodes what
// it holds (after expansion) as base64, JSON \u escapes, URL %XX or HTML &#NN; entities, nesting
// allowed (the innermost first). The same placeholder within one case
// expands to the same value (a key id and "its" secret stay a pair).
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fakeAccessKeyId, fakeSecretAccessKey } from './keys.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const PLACEHOLDER = /\{\{([A-Z0-9_]+)_(\d+)\}\}/g;

const randomFrom = (alphabet: string, n: number): string =>
  Array.from({ length: n }, () => alphabet[randomInt(alphabet.length)]).join('');

/** A secret with upper, lower case and a digit (as nearly every real one has), optionally ending in "/". */
function secret(endSlash: boolean): string {
  for (;;) {
    const s = endSlash ? `${fakeSecretAccessKey().slice(0, 39)}/` : fakeSecretAccessKey();
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
  }
}

function generate(kind: string): string {
  const b64 = (n: number): string => randomBytes(n).toString('base64');
  switch (kind) {
    case 'AKIA':
    case 'ASIA':
    case 'ABIA':
    case 'ACCA':
    case 'AIDA':
    case 'AROA':
      return fakeAccessKeyId(kind);
    case 'AKIA_DIGITS':
      // older ids are not base32 (AWS's own AKIAI44QH8DHBEXAMPLE has an 8)
      return `AKIAI${randomFrom('0189', 3)}${randomFrom(BASE32, 12)}`;
    case 'AKIA_XXXX':
      // an obvious placeholder, but AWS-shaped: the repository check would flag it if committed
      return `AKIA${'X'.repeat(16)}`;
    case 'PROSE_ASIA':
      // upper-case prose with ASIA inside a longer word run (a gitleaks false-positive test case)
      return ['TODAYIN', 'ASIA', 'ASACKOFRICEFELLOVER'].join('');
    case 'DNA':
      // a DNA sequence that starts with ACCA: an upper-case run longer than a key id (not one)
      return `ACCA${randomFrom('ACGT', 35)}`;
    case 'AKIA_TEST':
      return `AKIATEST${randomFrom(BASE32, 12)}`;
    case 'SECRET':
      return secret(false);
    case 'SECRET_SLASH':
      return secret(true);
    case 'RANDOM40':
      // secret-shaped noise (a decoy: placed near a key id, assigned to nothing)
      return secret(false);
    case 'TOKEN':
      return `IQoJb3JpZ2luX2Vj${b64(240).replace(/=+$/, '')}`;
    case 'HEX_40':
      return randomBytes(20).toString('hex');
    case 'HEX_40_UPPER':
      return randomBytes(20).toString('hex').toUpperCase();
    case 'HEX_64':
      return randomBytes(32).toString('hex');
    case 'BASE64_56':
      // 40 random bytes encoded: as long as an encoded secret, but not one inside
      return b64(40);
    case 'BASE64_88':
      return b64(64);
    case 'BASE64_372':
      return b64(279);
    case 'BASE64_4000':
      return b64(3000);
    case 'BASE64URL_120':
      return randomBytes(90).toString('base64url');
    case 'BASE64URL_43':
      return randomBytes(32).toString('base64url');
    default:
      throw new Error(`unknown fixture placeholder kind ${kind}`);
  }
}

/** {{encode:KIND}}text{{/encode}}, innermost first: the text (placeholders expanded) encoded whole. */
const REGION = /\{\{encode:(base64|json-escape|url|html)\}\}((?:(?!\{\{encode:)[\s\S])*?)\{\{\/encode\}\}/;

function encode(kind: string, text: string): string {
  const codes = [...text].map((c) => c.charCodeAt(0));
  switch (kind) {
    case 'base64':
      return Buffer.from(text, 'latin1').toString('base64');
    case 'json-escape':
      return codes.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('');
    case 'url':
      return codes.map((c) => `%${c.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    default:
      return codes.map((c) => `&#${c};`).join('');
  }
}

function encodeRegions(text: string): string {
  for (let m = REGION.exec(text); m; m = REGION.exec(text))
    text =
      text.slice(0, m.index) + encode(m[1] as string, m[2] as string) + text.slice(m.index + m[0].length);
  return text;
}

/** Kinds that are credentials: in an ng.* case each one must be found (the corpus's recall). */
export const CREDENTIAL_KINDS = /^(AKIA|ASIA|ABIA|ACCA|AKIA_DIGITS|AKIA_TEST|SECRET|SECRET_SLASH|TOKEN)_\d+$/;

export interface ExpandedFixture {
  /** generated value of each placeholder, e.g. { SECRET_1: "..." } */
  values: Map<string, string>;
}

/** Copies src to dest, expanding placeholders in every file (bytes other than placeholders kept). */
export async function expandFixture(src: string, dest: string): Promise<ExpandedFixture> {
  const values = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const from = join(dir, e.name);
      if (e.isDirectory()) {
        await walk(from);
        continue;
      }
      const text = (await readFile(from)).toString('latin1');
      const out = encodeRegions(
        text.replace(PLACEHOLDER, (_, kind: string, n: string) => {
          const key = `${kind}_${n}`;
          if (!values.has(key)) values.set(key, generate(kind));
          return values.get(key) as string;
        }),
      );
      const to = join(dest, relative(src, from));
      await mkdir(dirname(to), { recursive: true });
      await writeFile(to, Buffer.from(out, 'latin1'));
    }
  };
  await walk(src);
  return { values };
}
