// Scanner data: findings are data (rule, severity, where, redacted excerpt), never errors.
export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';
/** An encoding the scanner looks inside (src/scan/decode.ts). */
export type Decoding = 'base64' | 'json-escape' | 'url' | 'html';

export const SEVERITIES: Severity[] = ['info', 'low', 'medium', 'high', 'critical'];

export interface Location {
  /** file path, or image/<ref>/<layer>/<path>, or container/<name> */
  path: string;
  line?: number;
  column?: number;
  /** byte offset in the file, for a finding in a binary file (no lines there) */
  offset?: number;
  layer?: { index: number; digest: string };
  image?: string;
  container?: string;
}

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  fix: string;
  location: Location;
  /** redacted excerpt: never the secret */
  excerpt: string;
  /** stable hash of rule + secret + logical path, for baselines and SARIF fingerprints */
  fingerprint: string;
  /** the access key id, redacted, when known */
  keyId?: string;
  /** the AWS account the key id belongs to, decoded offline from the id (newer id formats only) */
  account?: string;
  deleted?: string;
  /** the decodings that led to it, outermost first (base64, json-escape, url, html), when it was encoded */
  decoded?: Decoding[];
  verified?: 'live' | 'invalid' | 'unknown';
  /** --verify: whether the key's account is one of the user's (their credentials' or a role's in ~/.aws/config) */
  owner?: 'yours' | 'not-yours';
  /** kept only in memory for --verify (the full key id); never printed */
  rawKeyId?: string;
  /** kept only in memory for --verify; never printed */
  secretPair?: { accessKeyId: string; secretAccessKey: string };
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}
