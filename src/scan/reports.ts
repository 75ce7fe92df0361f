// Reports (pure): text for people, JSON (stable shape, version 1), SARIF 2.1.0 for code scanning.
// Never the secret: excerpts are redacted, fingerprints are hashes.
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
  return `${l.path}${l.line ? `:${l.line}` : ''}`;
}

export function renderText(findings: Finding[]): string {
  if (findings.length === 0) return 'no findings';
  const lines = findings.map(
    (f) =>
      `${f.severity.toUpperCase().padEnd(8)} ${f.rule}  ${where(f)}\n         ${f.message} [${f.excerpt}]${f.deleted ? `\n         ${f.deleted}` : ''}${f.verified ? `\n         verified: ${f.verified}` : ''}\n         fix: ${f.fix}`,
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
        ...(f.deleted ? { deleted: f.deleted } : {}),
        ...(f.verified ? { verified: f.verified } : {}),
      })),
    },
    null,
    2,
  );
}

export function renderSarif(findings: Finding[], version: string, category = 'keyless-scan/'): string {
  const rules = [...new Map(findings.map((f) => [f.rule, f])).values()].map((f) => ({
    id: f.rule,
    name: f.rule,
    shortDescription: {
      text: f.rule
        .replace(/^SCAN_/, '')
        .replace(/_/g, ' ')
        .toLowerCase(),
    },
    fullDescription: { text: f.message.slice(0, 1000) },
    help: { text: f.fix, markdown: f.fix },
    defaultConfiguration: { level: LEVEL[f.severity] },
    properties: {
      tags: ['security', 'secrets'],
      precision: 'high',
      'security-severity': SECURITY_SEVERITY[f.severity],
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
              semanticVersion: version,
              informationUri: 'https://github.com/keyless',
              rules,
            },
          },
          automationDetails: { id: category },
          results: findings.map((f) => ({
            ruleId: f.rule,
            ruleIndex: index.get(f.rule),
            level: LEVEL[f.severity],
            message: { text: `${f.message}${f.deleted ? ` (${f.deleted})` : ''}. ${f.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: { uri: f.location.path.replace(/^\/+/, '') },
                  region: { startLine: f.location.line ?? 1, startColumn: f.location.column ?? 1 },
                },
              },
            ],
            partialFingerprints: { primaryLocationLineHash: `${f.fingerprint}:1` },
            properties: {
              excerpt: f.excerpt,
              ...(f.location.layer ? { layer: f.location.layer } : {}),
              ...(f.deleted ? { deleted: f.deleted } : {}),
            },
          })),
        },
      ],
    },
    null,
    2,
  );
}
