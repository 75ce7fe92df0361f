// Credential detectors over text (pure). One pass finds access key ids; secrets are taken only when
// paired with a nearby key id (±1024 bytes, as trufflehog) or assigned to a secret-like name; session
// tokens by assignment. AWS documentation examples and obvious placeholders are informational.
import { createHash } from 'node:crypto';
import { accountOfKeyId } from './key-account.js';
import { base64Spans, escapeSpans } from './decode.js';
import { CANDIDATE_TEST } from './kernel.js';
import { redactAccessKeyId } from '../util/redact.js';
import type { Decoding, Finding, Location, Severity } from './types.js';

export const Rule = {
  ACCESS_KEY_ID: 'SCAN_AWS_ACCESS_KEY_ID',
  SECRET_ACCESS_KEY: 'SCAN_AWS_SECRET_ACCESS_KEY',
  SESSION_TOKEN: 'SCAN_AWS_SESSION_TOKEN',
  EXAMPLE_KEY: 'SCAN_AWS_EXAMPLE_KEY',
  SECRET_NAME_IN_BUILD: 'SCAN_DOCKERFILE_SECRET_ARG_ENV',
  COPY_CREDENTIALS: 'SCAN_DOCKERFILE_COPY_CREDENTIALS',
  COMPOSE_SECRET_ENV: 'SCAN_COMPOSE_SECRET_ENV',
  AWS_MOUNT: 'SCAN_AWS_CREDENTIALS_MOUNT',
  IMAGE_CONFIG: 'SCAN_IMAGE_CONFIG_SECRET',
} as const;

const KEY_ID = /(?<![A-Z0-9])(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])/g;
const SECRET40 = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g;
/** a separator between the words of a name, as the kernel's candidates allow */
const S = '[-_. ]?';
/**
 * A secret key's name, case- and separator-insensitive: aws_secret_access_key, SecretAccessKey,
 * secret_key, secretkey, aws.secretkey, AWS_SECRET, aws-secret-key, "Secret access key", and the
 * secret named after the key (AWS_ACCESS_KEY_SECRET, aws_access_secret, awsKeySecret).
 */
const SECRET_NAME = new RegExp(
  `aws${S}(?:access${S})?(?:key${S})?secret(?:${S}(?:access${S})?key)?|secret${S}(?:access${S})?key`,
  'gi',
);
/**
 * A session token's name: strong ones (session_token, security_token, aws_token, AwsSessionToken)
 * and weak ones (session, token), which count only next to a key id (a YAML or XML block with the
 * key id, its secret and the token under short names).
 */
const TOKEN_NAME = new RegExp(
  `(?:aws${S})?(?:session|security)${S}token|aws${S}token|(?<![A-Za-z0-9])(?:session|token)(?![A-Za-z0-9])`,
  'gi',
);
/**
 * After a name: a closing quote (JSON, escaped JSON, a backtick) and bracket (code: $c['name'] => ...),
 * then = : := => :- (a shell default, ${NAME:-value}), > (XML) or | (a Markdown table's cell), a
 * value field (an XML attribute key="AWSSecretKey" value="...", a name/value pair as in Kubernetes
 * `- name: NAME` / `value: ...` and ECS task definitions), or blanks (a command line: aws configure
 * set aws_secret_access_key VALUE), or a comma after a quoted name (a call:
 * System.setProperty("aws.secretKey", "VALUE"), os.Setenv("AWS_SECRET_ACCESS_KEY", "VALUE")), then a
 * YAML block scalar's or a heredoc's header (key: |, <<EOT) if any, then the value. A shell default
 * without the colon counts inside ${...} only (${NAME-value}); a value that is itself an
 * interpolation with a default (NAME=${OTHER:-value}, compose NAME: ${OTHER-value}) is that default.
 */
const AFTER =
  '(?:\\\\?["\'`])?\\]?(?:\\s*(?::=|=>|:-|[:=>|])\\s*|(?<=\\$\\{\\w+)-|\\s*[,;]?\\s*["\']?[Vv]alue["\']?\\s*[:=]\\s*|(?<=["\'`])\\s*,\\s*|[ \\t]+)' +
  '(?:[|>][-+]?[ \\t]*\\r?\\n[ \\t]*|<<[-~]?["\']?\\w+["\']?[ \\t]*\\r?\\n[ \\t]*)?(?:\\\\?["\'`])?(?:\\$\\{\\w+:?[-=]["\']?)?';
/**
 * A secret's name may carry a suffix of one or two words (AWS_SECRET_ACCESS_KEY_PROD,
 * aws_secret_key_2, AWS_SECRET_ACCESS_KEY_ID as some write it): still that secret.
 */
const NAME_SUFFIX = '(?:[-_.][A-Za-z0-9]{1,12}){0,2}';
const AFTER_NAME = new RegExp(`${NAME_SUFFIX}${AFTER}([A-Za-z0-9+/]{40})(?![A-Za-z0-9+/])`, 'y');
/**
 * A secret's name with its value base64-encoded on its own (a Kubernetes Secret's data:, CI variables
 * stored encoded): 40 bytes are 54 base64 characters and their padding.
 */
const AFTER_NAME_BASE64 = new RegExp(
  `${NAME_SUFFIX}${AFTER}([A-Za-z0-9+/]{54}(?:==)?)(?![A-Za-z0-9+/=])`,
  'y',
);
/** A key id base64-encoded on its own (20 bytes: 27 characters and "="), for pairing with such a secret. */
const KEY_ID_BASE64 = /(?<![A-Za-z0-9+/])(?:QUtJQ|QVNJQ|QUJJQ|QUNDQ)[A-Za-z0-9+/]{22}=?(?![A-Za-z0-9+/=])/g;
const KEY_ID_WHOLE = /^(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}$/;
const SECRET_WHOLE = /^[A-Za-z0-9+/]{40}$/;
const AFTER_TOKEN_NAME = new RegExp(`${AFTER}([A-Za-z0-9+/]{100,}={0,2})`, 'y');
/** How STS session tokens begin (the serialized token's version header), old and new formats. */
const STS_TOKEN_START = /^(?:IQoJb3JpZ2lu|IgoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz|AQoDYXdz|AgoJb3JpZ2lu)/;
const EXAMPLE_IDS = new Set(['AKIAIOSFODNN7EXAMPLE', 'AKIAI44QH8DHBEXAMPLE']);
/**
 * After a key id, a SigV4 credential scope (/20190814/us-west-2/s3/aws4_request, also URL-encoded or
 * JSON-escaped): the id of a signed request, a presigned URL's X-Amz-Credential or an Authorization
 * header, public by design and next to no secret (the signature is an HMAC, not the key).
 */
const SIGV4_SCOPE =
  /^(?:\/|\\\/|%2F)\d{8}(?:\/|\\\/|%2F)[a-z0-9-]+(?:\/|\\\/|%2F)[a-z0-9-]+(?:\/|\\\/|%2F)aws4_request/i;

const PAIR_WINDOW = 1024;

/**
 * A Terraform / OpenTofu block whose header is the AWS context of everything inside it, however long
 * the block: `provider "aws" {` and `backend "s3" {` (its secret_key is an AWS key; "aws" may be
 * nowhere near, or nowhere at all).
 */
const AWS_HCL_BLOCK = /(?<![A-Za-z0-9_])(?:provider\s+"aws"|backend\s+"s3")\s*\{/g;
/** How far back a name looks for its block's header (bytes). */
const HCL_BLOCK_LOOKBACK = 8192;

/** Where each AWS block's body begins (just after its `{`), in order. */
function awsHclBlockStarts(text: string): number[] {
  // (a cheap test first: most text has no block header at all)
  if (!/provider|backend/.test(text)) return [];
  return [...text.matchAll(AWS_HCL_BLOCK)].map((m) => (m.index ?? 0) + m[0].length);
}

/** Is index inside an AWS block (provider "aws", backend "s3") that is still open there? */
function inAwsHclBlock(text: string, starts: number[], index: number): boolean {
  let open = -1;
  for (const s of starts) {
    if (s > index) break;
    open = s;
  }
  if (open < 0 || index - open > HCL_BLOCK_LOOKBACK) return false;
  let depth = 1;
  for (let i = open; i < index; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return false;
  }
  return true;
}

/** A parameter's default line (YAML) and value (JSON): a secret-shaped run, quoted or not. */
const CFN_DEFAULT_YAML =
  /^([ \t]*)["']?Default["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{40})["']?[ \t]*(?:#.*)?$/;
const CFN_DEFAULT_JSON = /"Default"\s*:\s*"([A-Za-z0-9+/]{40})"/y;
/** A CloudFormation template: its version key, a resource type (AWS::S3::Bucket) or a Parameters key. */
const CFN_MARK =
  /AWSTemplateFormatVersion|AWS::[A-Za-z0-9]+::[A-Za-z0-9]+|(?:^|\n)[ \t]*"?Parameters"?[ \t]*:/;
/** How far a parameter's block reaches (bytes). */
const CFN_BLOCK = 1024;

/**
 * A CloudFormation parameter's default: the value under `Default:` (YAML) or `"Default":` (JSON) in
 * the parameter's own block, a few lines after its name (Parameters: / SecretKey: / Type: String /
 * NoEcho: true / Default: VALUE). Returns the value's index and the value, or undefined.
 */
function parameterDefault(text: string, nameStart: number, nameEnd: number): [number, string] | undefined {
  // (every search is bounded: a long minified line with many names stays linear)
  // JSON: "SecretKey": { "Type": "String", "NoEcho": "true", "Default": "VALUE" }
  const json = /^[A-Za-z0-9_]*["']\s*:\s*\{/.exec(text.slice(nameEnd, nameEnd + 64));
  if (json) {
    const body = nameEnd + json[0].length;
    const block = text.slice(body, body + CFN_BLOCK);
    const close = block.indexOf('}');
    const end = close < 0 ? block.length : close;
    for (let i = block.indexOf('"Default"'); i >= 0 && i < end; i = block.indexOf('"Default"', i + 1)) {
      CFN_DEFAULT_JSON.lastIndex = i;
      const m = CFN_DEFAULT_JSON.exec(block);
      if (m && CFN_DEFAULT_JSON.lastIndex <= end)
        return [body + CFN_DEFAULT_JSON.lastIndex - 41, m[1] as string];
    }
    return undefined;
  }
  // YAML: the name is a key with nothing after it on its line; its block is the more indented lines below
  const before = text.slice(Math.max(0, nameStart - 256), nameStart);
  const nl = before.lastIndexOf('\n');
  if (nl < 0 && nameStart > 256) return undefined;
  const head = before.slice(nl + 1);
  if (!/^[ \t]*(?:-[ \t]+)?["']?[A-Za-z0-9_]*$/.test(head)) return undefined;
  const nextNl = text.slice(nameEnd, nameEnd + 256).indexOf('\n');
  const eol = nextNl < 0 ? -1 : nameEnd + nextNl;
  if (eol < 0 || !/^[A-Za-z0-9_]*["']?[ \t]*:[ \t]*(?:#.*)?\r?$/.test(text.slice(nameEnd, eol)))
    return undefined;
  const indent = (/^[ \t]*/.exec(head)?.[0] ?? '').length;
  let at = eol + 1;
  while (at < text.length && at - eol <= CFN_BLOCK) {
    const nextAt = text.slice(at, at + CFN_BLOCK).indexOf('\n');
    const next = nextAt < 0 ? (at + CFN_BLOCK < text.length ? at + CFN_BLOCK : -1) : at + nextAt;
    const line = text.slice(at, next < 0 ? undefined : next).replace(/\r$/, '');
    if (line.trim() !== '' && !/^[ \t]*#/.test(line)) {
      if ((/^[ \t]*/.exec(line)?.[0] ?? '').length <= indent) return undefined;
      const m = CFN_DEFAULT_YAML.exec(line);
      if (m) return [at + line.indexOf(m[2] as string), m[2] as string];
    }
    if (next < 0) break;
    at = next + 1;
  }
  return undefined;
}

/** Merged [from, to) ranges of text within the pairing window of a key id, one byte of context each side. */
function pairingWindows(ids: { index: number }[], length: number): [number, number][] {
  const out: [number, number][] = [];
  for (const { index } of ids) {
    const from = Math.max(0, index - PAIR_WINDOW - 41);
    const to = Math.min(length, index + 20 + PAIR_WINDOW + 41);
    const last = out[out.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** Cheap prefilter, the kernel's own test: most text has no candidate, and then no regex runs at all. */
function mayContain(text: string): boolean {
  return CANDIDATE_TEST.test(text);
}

export function fingerprint(rule: string, secret: string, path: string): string {
  return createHash('sha256').update(`${rule}\0${secret}\0${path}`).digest('hex').slice(0, 32);
}

function lineOf(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: index - last };
}

function isPlaceholder(s: string): boolean {
  return /EXAMPLE|XXXX|xxxx|0000000000000000|your|YOUR|<|\$\{|\{\{/.test(s);
}

/**
 * A secret-shaped value that is not a secret: a placeholder, one repeated character, or all
 * lowercase hex (a SHA-1 or other digest; a real secret access key is base64 with both cases).
 */
export function isSecretPlaceholder(s: string): boolean {
  return isPlaceholder(s) || /^(.)\1+$/.test(s) || /^[0-9a-f]+$/i.test(s);
}

/**
 * A 40-character run near a key id pairs with it only when it is placed as a value: after `=`, `:`,
 * `>` (XML), or `,` on its line (quotes and spaces between are fine), after a word naming a secret or
 * key (`aws configure set aws_secret_access_key VALUE`), or alone on its line. A random string that
 * merely sits near a key id is not its secret.
 */
export function placedAsValue(text: string, index: number, length: number, binary: boolean): boolean {
  // a compiled program's string table has no syntax: there, nearness is all there is
  if (binary) return true;
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  let j = index - 1;
  // (a backslash too: an escaped quote, in JSON such as a notebook's source lines)
  while (j >= lineStart && /[ \t"'`\\]/.test(text[j] as string)) j--;
  // a tab-separated field (aws ... --output text, a TSV export)
  if (j >= lineStart && text.slice(j + 1, index).includes('\t')) return true;
  if (j < lineStart) {
    // alone on its line
    const end = text.indexOf('\n', index + length);
    return text.slice(index + length, end < 0 ? undefined : end).replace(/^["',;\s\\]+/, '') === '';
  }
  const c = text[j];
  // (| is a table's cell: Markdown, aws ... --output table)
  if (c === '=' || c === ':' || c === '>' || c === ',' || c === '|') return true;
  // a command-line or prose form: `aws configure set aws_secret_access_key VALUE`, `secret VALUE`
  const word = /[A-Za-z_.-]+$/.exec(text.slice(Math.max(lineStart, j - 40), j + 1))?.[0] ?? '';
  return /secret|key/i.test(word);
}

function ignoredLine(text: string, index: number): boolean {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return /keyless:ignore/.test(text.slice(start, end < 0 ? undefined : end));
}

function looksBinary(text: string): boolean {
  return text.slice(0, 8192).includes('\u0000');
}

/** No character of a secret or token is shown (even a prefix narrows the guess); its length is. */
const redactSecret = (s: string): string => `…(${s.length} chars)`;

export interface DetectOptions {
  /** location fields shared by every finding in this text */
  base: Omit<Location, 'line' | 'column'>;
  /** the text is a window of a binary file: NUL bytes are fine, places are byte offsets (offset) */
  binary?: boolean;
  /** decodings that led to this text (set by the detectors themselves when they look inside one) */
  decoded?: Decoding[];
}

/** How many decodings deep the detectors look (base64 of a file holding JSON escapes is two). */
export const MAX_DECODE_DEPTH = 3;

/** All credential findings in one text, also inside its encoded parts (base64, escapes). */
export function detectCredentials(text: string, options: DetectOptions): Finding[] {
  // (decoded text is rare and bounded: no prefilter there, its own escapes may hide the candidates)
  if ((!options.decoded && !mayContain(text)) || (!options.binary && looksBinary(text))) return [];
  const out = detectPlain(text, options);
  const depth = options.decoded?.length ?? 0;
  if (options.binary || depth >= MAX_DECODE_DEPTH) return out;
  const seen = new Set(out.map((f) => `${f.rule}\0${f.fingerprint}`));
  const spans = [...escapeSpans(text), ...base64Spans(text)];
  for (const span of spans) {
    const decoded = [...(options.decoded ?? []), span.decoding];
    for (const f of detectCredentials(span.text, { ...options, decoded })) {
      if (seen.has(`${f.rule}\0${f.fingerprint}`)) continue;
      seen.add(`${f.rule}\0${f.fingerprint}`);
      if (span.decoding === 'base64') {
        // a finding inside a base64 value is placed at the value
        const at = lineOf(text, span.at);
        f.location = { ...f.location, line: at.line, column: at.column };
      }
      if (!f.decoded) {
        // set once, by the innermost decoding that found it
        f.decoded = decoded;
        f.message += ` (after decoding ${decoded.join(', then ')})`;
      }
      out.push(f);
    }
  }
  return out;
}

/** Findings in the text as it is (no decoding). */
function detectPlain(text: string, options: DetectOptions): Finding[] {
  const out: Finding[] = [];
  const where = (index: number): Location =>
    options.binary ? { ...options.base, offset: index } : { ...options.base, ...lineOf(text, index) };
  const ids: { id: string; index: number }[] = [];
  for (const m of text.matchAll(KEY_ID)) {
    const id = m[0];
    const index = m.index ?? 0;
    if (ignoredLine(text, index)) continue;
    ids.push({ id, index });
    const example = EXAMPLE_IDS.has(id) || isPlaceholder(id);
    const signed = !example && SIGV4_SCOPE.test(text.slice(index + 20, index + 80));
    // whose key it is, read from the id itself (never by using the key)
    const account = example ? undefined : accountOfKeyId(id);
    out.push({
      rule: example ? Rule.EXAMPLE_KEY : Rule.ACCESS_KEY_ID,
      severity: example || signed ? 'info' : id.startsWith('ASIA') ? 'medium' : 'high',
      message: example
        ? `AWS documentation example key id ${id} (not a live credential)`
        : `AWS access key id ${redactAccessKeyId(id)} (${id.startsWith('ASIA') ? 'temporary' : 'long-term'}${account ? `, account ${account}` : ', an older id format that does not carry its account'})${signed ? ' in the credential scope of a signed request or presigned URL: the id is public there, no secret; the URL itself works until it expires' : ''}`,
      ...(account ? { account } : {}),
      ...(example ? {} : { rawKeyId: id }),
      fix: 'Remove the key from the file, rotate it (keyless rotate PROFILE), and give the workload credentials through keyless (keyless run / keyless build).',
      location: where(index),
      excerpt: redactAccessKeyId(id),
      fingerprint: fingerprint(Rule.ACCESS_KEY_ID, id, options.base.path),
      keyId: redactAccessKeyId(id),
    });
  }
  // key ids base64-encoded on their own (a Kubernetes Secret): reported through the base64 decoding,
  // counted here only so that a secret encoded the same way next to them is paired with them
  let encodedIds = false;
  for (const m of text.matchAll(KEY_ID_BASE64)) {
    const id = Buffer.from(m[0], 'base64').toString('latin1');
    if (KEY_ID_WHOLE.test(id) && !ignoredLine(text, m.index ?? 0)) {
      ids.push({ id, index: m.index ?? 0 });
      encodedIds = true;
    }
  }
  if (encodedIds) ids.sort((a, b) => a.index - b.index);
  /** where provider "aws" / backend "s3" blocks open (found once, when a name first asks) */
  let hclStarts: number[] | undefined;
  const nearId = (index: number): boolean => ids.some((i) => Math.abs(i.index - index) <= PAIR_WINDOW);
  /**
   * "aws" in the name itself or in the 300 bytes before it, a key id within the pairing window, or an
   * open Terraform/OpenTofu provider "aws" / backend "s3" block around it
   */
  const awsContext = (nameStart: number, name: string): boolean => {
    let b = nameStart;
    while (b > 0 && /[A-Za-z0-9_.-]/.test(text[b - 1] as string)) b--;
    return (
      /access|aws/i.test(name) ||
      /aws/i.test(text.slice(Math.max(0, b - 300), nameStart)) ||
      nearId(nameStart) ||
      inAwsHclBlock(text, (hclStarts ??= awsHclBlockStarts(text)), nameStart)
    );
  };
  const secrets = new Map<number, string>();
  /** secrets whose value was base64-encoded on its own */
  const encoded = new Set<number>();
  /** is the text a CloudFormation template (looked up once, when a parameter default asks) */
  let cloudFormation: boolean | undefined;
  // a value assigned to a secret's name, in every common syntax (env, INI, YAML, JSON and escaped
  // JSON, XML, HCL, properties, code): aws_secret_access_key, SecretAccessKey, awsSecretKey,
  // aws.secretkey, "secret_key" (in an AWS context: "aws" in the name or in the 300 bytes before it,
  // a key id near, or inside a provider "aws" / backend "s3" block)
  for (const m of text.matchAll(SECRET_NAME)) {
    const at = m.index ?? 0;
    AFTER_NAME.lastIndex = at + m[0].length;
    const v = AFTER_NAME.exec(text);
    if (v) {
      if (awsContext(at, m[0])) secrets.set(AFTER_NAME.lastIndex - 40, v[1] as string);
      continue;
    }
    AFTER_NAME_BASE64.lastIndex = at + m[0].length;
    const e = AFTER_NAME_BASE64.exec(text);
    if (e) {
      const value = e[1] as string;
      const s = Buffer.from(value, 'base64').toString('latin1');
      if (SECRET_WHOLE.test(s) && awsContext(at, m[0])) {
        const index = AFTER_NAME_BASE64.lastIndex - value.length;
        secrets.set(index, s);
        encoded.add(index);
      }
      continue;
    }
    // a CloudFormation parameter named like a secret key, its secret under Default: a few lines below
    // (most names have no Default in the next kilobyte: then no parameter is looked at)
    const d = text.slice(at, at + CFN_BLOCK + 256).includes('Default')
      ? parameterDefault(text, at, at + m[0].length)
      : undefined;
    if (!d) continue;
    const [index, s] = d;
    const shaped = /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9+/]/.test(s);
    cloudFormation ??= CFN_MARK.test(text);
    if ((shaped || isSecretPlaceholder(s)) && (awsContext(at, m[0]) || cloudFormation)) secrets.set(index, s);
  }
  // Secrets are looked for only in a window around each key id (±1,024 bytes, as trufflehog), never
  // over the whole text: the bounded-run regex is costly per position (reference/scanning.md §6.2).
  for (const [from, to] of pairingWindows(ids, text.length)) {
    for (const m of text.slice(from, to).matchAll(SECRET40)) {
      const index = from + (m.index ?? 0);
      const s = m[0];
      // a match touching a cut edge may be part of a longer run: only whole runs count
      if ((index === from && from > 0) || (index + 40 === to && to < text.length)) continue;
      // a hash (one letter case) or a word (letters only), not a key: a real secret has both cases and
      // a digit, "+" or "/" (a random one lacks all three 1 time in 5,000; requiring a digit alone
      // missed 1 in 900)
      if (!/[A-Z]/.test(s) || !/[a-z]/.test(s) || !/[0-9+/]/.test(s)) continue;
      if (!placedAsValue(text, index, 40, options.binary === true)) continue;
      if (ids.some((i) => Math.abs(i.index - index) <= PAIR_WINDOW && !s.includes(i.id)))
        secrets.set(index, s);
    }
  }
  for (const [index, s] of secrets) {
    if (ignoredLine(text, index)) continue;
    const example = isSecretPlaceholder(s);
    const near = ids
      .filter((i) => Math.abs(i.index - index) <= PAIR_WINDOW)
      .sort((a, b) => Math.abs(a.index - index) - Math.abs(b.index - index))[0];
    const severity: Severity = example ? 'info' : 'critical';
    out.push({
      rule: example ? Rule.EXAMPLE_KEY : Rule.SECRET_ACCESS_KEY,
      severity,
      message: example
        ? 'placeholder or documentation example secret access key'
        : `AWS secret access key${near ? ` paired with ${redactAccessKeyId(near.id)}` : ''}`,
      fix: 'Remove it, rotate the key now (keyless rotate PROFILE), and use keyless run / keyless build so no key is ever written into files or images.',
      location: where(index),
      excerpt: redactSecret(s),
      fingerprint: fingerprint(Rule.SECRET_ACCESS_KEY, s, options.base.path),
      ...(near
        ? { keyId: redactAccessKeyId(near.id), secretPair: { accessKeyId: near.id, secretAccessKey: s } }
        : {}),
      ...(near && !example && accountOfKeyId(near.id) ? { account: accountOfKeyId(near.id) as string } : {}),
    });
    if (encoded.has(index)) {
      const f = out[out.length - 1] as Finding;
      f.decoded = [...(options.decoded ?? []), 'base64'];
      f.message += ` (after decoding ${f.decoded.join(', then ')})`;
    }
  }
  // session tokens: a strong name anywhere in an AWS context, a weak one (session, token) next to a key id
  const tokens = new Map<number, string>();
  for (const m of text.matchAll(TOKEN_NAME)) {
    const at = m.index ?? 0;
    const weak = /^(?:session|token)$/i.test(m[0]);
    if (weak && !nearId(at)) continue;
    AFTER_TOKEN_NAME.lastIndex = at + m[0].length;
    const v = AFTER_TOKEN_NAME.exec(text);
    if (!v) continue;
    const t = v[1] as string;
    if (!weak && !awsContext(at, m[0]) && !STS_TOKEN_START.test(t)) continue;
    tokens.set(AFTER_TOKEN_NAME.lastIndex - t.length, t);
  }
  for (const [index, t] of tokens) {
    if (ignoredLine(text, index)) continue;
    const example = isPlaceholder(t) || t.startsWith('AQoDYXdzEJr') || /^(.)\1+$/.test(t);
    out.push({
      rule: example ? Rule.EXAMPLE_KEY : Rule.SESSION_TOKEN,
      severity: example ? 'info' : 'medium',
      message: example ? 'placeholder session token' : 'AWS session token',
      fix: 'Remove it; session tokens expire, but until then they are as good as the key.',
      location: where(index),
      excerpt: redactSecret(t),
      fingerprint: fingerprint(Rule.SESSION_TOKEN, t, options.base.path),
    });
  }
  return out;
}
