// Reports (pure): text for people, JSON (stable shape, version 1), SARIF 2.1.0 for code scanning.
// Never the secret: excerpts are redacted, fingerprints are hashes.
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULES } from './rules.js';
import type { Finding, Severity } from './types.js';

const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '3.0',
  info: '0.1',
};
const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
};

function where(f: Finding): string {
  const l = f.location;
  if (l.layer)
    return `${l.image} layer ${l.layer.index} (${l.layer.digest.slice(0, 19)}) ${l.path.split('/').slice(3).join('/')}`;
  return `${l.path}${l.line ? `:${l.line}` : ''}${l.offset !== undefined ? ` (byte ${l.offset})` : ''}`;
}

export function renderText(findings: Finding[]): string {
  if (findings.length === 0) return 'no findings';
  const lines = findings.map(
    (f) =>
      `${f.severity.toUpperCase().padEnd(8)} ${f.rule}  ${where(f)}\n         ${f.message} [${f.excerpt}]${f.deleted ? `\n         ${f.deleted}` : ''}${f.verified ? `\n         verified: ${f.verified}` : ''}${f.owner ? `\n         owner: account ${f.account ?? '?'} is ${f.owner === 'yours' ? 'one of yours' : 'not one of yours'}` : ''}\n         fix: ${f.fix}`,
  );
  return `${lines.join('\n')}\n${findings.length} finding(s)`;
}

export function renderJson(findings: Finding[], version: string): string {
  return JSON.stringify(
    {
      version: 1,
      tool: { name: 'keyless', version },
      findings: findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        message: f.message,
        fix: f.fix,
        location: f.location,
        excerpt: f.excerpt,
        fingerprint: f.fingerprint,
        ...(f.keyId ? { keyId: f.keyId } : {}),
        ...(f.account ? { account: f.account } : {}),
        ...(f.owner ? { owner: f.owner } : {}),
        ...(f.decoded ? { decoded: f.decoded } : {}),
        ...(f.deleted ? { deleted: f.deleted } : {}),
        ...(f.verified ? { verified: f.verified } : {}),
      })),
    },
    null,
    2,
  );
}

/**
 * A SARIF artifact URI: files under cwd relative to it (GitHub matches them to the checkout), other
 * files as file:// URIs, and image/container places as they are (relative, synthetic).
 */
export function sarifUri(path: string, cwd: string): string {
  if (!path.startsWith('/')) return path.split('/').map(encodeURIComponent).join('/');
  const rel = relative(cwd, path);
  if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel))
    return rel.split(sep).map(encodeURIComponent).join('/');
  return pathToFileURL(path).href;
}

export interface SarifOptions {
  version: string;
  /** automationDetails.id; GitHub takes the part before the last "/" as the category */
  category?: string;
  /** the checkout root, for relative URIs (default: the process's working directory) */
  cwd?: string;
}

export function renderSarif(findings: Finding[], options: SarifOptions): string {
  const cwd = options.cwd ?? process.cwd();
  const rules = RULES.map((r) => ({
    id: r.id,
    name: r.id,
    shortDescription: { text: r.title },
    fullDescription: { text: r.help.slice(0, 1024) },
    help: { text: r.help, markdown: r.help },
    defaultConfiguration: { level: LEVEL[r.severity] },
    properties: {
      tags: ['security', 'secrets', 'aws'],
      precision: r.severity === 'info' ? 'low' : 'high',
      'security-severity': SECURITY_SEVERITY[r.severity],
    },
  }));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'keyless',
              semanticVersion: options.version,
              informationUri: 'https://github.com/keyless',
              rules,
            },
          },
          automationDetails: { id: options.category ?? 'keyless-scan/' },
          results: findings.map((f) => ({
            ruleId: f.rule,
            ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
            level: LEVEL[f.severity],
            message: { text: `${f.message}${f.deleted ? ` (${f.deleted})` : ''}. ${f.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: sarifUri(f.location.path, cwd) },
                  region: { startLine: f.location.line ?? 1, startColumn: f.location.column ?? 1 },
                },
              },
            ],
            // our own hash: upload-sarif cannot compute one for image layers (reference/scanning.md §5)
            partialFingerprints: { primaryLocationLineHash: `${f.fingerprint}:1` },
            properties: {
              severity: f.severity,
              excerpt: f.excerpt,
              ...(f.location.layer ? { layer: f.location.layer } : {}),
              // a binary file has no lines: the place is this byte offset (region says line 1)
              ...(f.location.offset !== undefined ? { byteOffset: f.location.offset } : {}),
              ...(f.deleted ? { deleted: f.deleted } : {}),
              ...(f.verified ? { verified: f.verified } : {}),
              ...(f.account ? { account: f.account } : {}),
              ...(f.owner ? { owner: f.owner } : {}),
              ...(f.decoded ? { decoded: f.decoded } : {}),
            },
          })),
        },
      ],
    },
    null,
    2,
  );
}
