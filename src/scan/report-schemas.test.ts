// The JSON report against our schema (docs/schemas/scan-report.v1.schema.json) and SARIF against the
// SARIF 2.1.0 schema, for findings that use every optional field; and the schemas are not permissive.
// Reports of real scans (fixtures, an image archive, a container) are validated in
// test/integration/scan-report-schemas.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCredentials, fingerprint } from './detectors.js';
import { renderJson, renderSarif } from './reports.js';
import { RULES } from './rules.js';
import { SEVERITIES, type Finding } from './types.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';
import { validateSarif, validateScanReport, type Validation } from '../../test/helpers/report-schemas.js';

const digest = `sha256:${'b'.repeat(64)}`;

/** Findings that together use every optional field of Finding and Location. */
function everyField(): Finding[] {
  const id = fakeAccessKeyId();
  const secret = fakeSecretAccessKey();
  const inFile = detectCredentials(
    `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`,
    {
      base: { path: '/repo/app/credentials' },
    },
  ).map((f) => ({ ...f, verified: 'invalid' as const }));
  const inLayer = detectCredentials(`AWS_ACCESS_KEY_ID=${id}\nAWS_SECRET_ACCESS_KEY=${secret}\n`, {
    base: { path: 'image/local/app:1/layer2/root/.aws/credentials', image: 'local/app:1' },
  }).map((f) => ({
    ...f,
    location: { ...f.location, layer: { index: 2, digest } },
    deleted: 'deleted in layer 3, still extractable from layer 2',
    verified: 'unknown' as const,
  }));
  const inContainer: Finding = {
    rule: 'SCAN_AWS_CREDENTIALS_MOUNT',
    severity: 'high',
    message:
      'container web mounts /home/u/.aws at /root/.aws: AWS credentials files shared with the container',
    fix: 'Recreate it with keyless run and no .aws mount.',
    location: { path: 'container/web/Mounts', container: 'web' },
    excerpt: '/home/u/.aws → /root/.aws',
    fingerprint: fingerprint('SCAN_AWS_CREDENTIALS_MOUNT', '/home/u/.aws', 'container/web'),
  };
  const live = { ...(inFile[0] as Finding), verified: 'live' as const, severity: 'critical' as const };
  // a key in a binary file: placed by byte offset, no line
  const inBinary = detectCredentials(`\u0000\u0001key ${id}\u0000`, {
    base: { path: '/repo/bin/tool' },
    binary: true,
  });
  // a key found inside a base64 value
  const encoded = Buffer.from(`aws_access_key_id=${id}\naws_secret_access_key=${secret}\n`).toString(
    'base64',
  );
  const inBase64 = detectCredentials(`data:\n  credentials: ${encoded}\n`, {
    base: { path: '/repo/k8s.yaml' },
  });
  return [...inFile, ...inLayer, inContainer, live, ...inBinary, ...inBase64];
}

const report = (findings: Finding[]): Record<string, unknown> =>
  JSON.parse(renderJson(findings, '1.2.3')) as Record<string, unknown>;

function assertValid(v: Validation, what: string): void {
  assert.ok(v.valid, `${what} is invalid:\n${v.errors.join('\n')}`);
}

function assertInvalid(v: Validation, pattern: RegExp, what: string): void {
  assert.equal(v.valid, false, `${what} was accepted`);
  assert.ok(
    v.errors.some((e) => pattern.test(e)),
    `${what}: expected an error matching ${pattern}, got:\n${v.errors.join('\n')}`,
  );
}

/** A deep copy of the first finding of a report, for breaking it. */
function firstFinding(doc: Record<string, unknown>): Record<string, unknown> {
  return (doc.findings as Record<string, unknown>[])[0] as Record<string, unknown>;
}

describe('report schemas', () => {
  test('the findings under test use every optional field (location line, column, offset, image, layer, container; keyId, deleted, verified, decoded)', () => {
    const doc = report(everyField());
    const findings = doc.findings as {
      location: Record<string, unknown>;
      keyId?: string;
      deleted?: string;
      verified?: string;
      decoded?: string[];
    }[];
    for (const k of ['line', 'column', 'offset', 'image', 'layer', 'container'])
      assert.ok(
        findings.some((f) => f.location[k] !== undefined),
        `some finding has location.${k}`,
      );
    for (const k of ['keyId', 'deleted', 'verified', 'decoded'] as const)
      assert.ok(
        findings.some((f) => f[k] !== undefined),
        `some finding has ${k}`,
      );
    assert.deepEqual(
      new Set(findings.map((f) => f.verified).filter(Boolean)),
      new Set(['live', 'invalid', 'unknown']),
    );
  });

  test('the JSON report validates against docs/schemas/scan-report.v1.schema.json, empty or not', () => {
    assertValid(validateScanReport(report(everyField())), 'the JSON report');
    assertValid(validateScanReport(report([])), 'an empty JSON report');
  });

  test('every severity and every registry rule id is allowed by the schema', () => {
    const base = everyField()[0] as Finding;
    const findings = SEVERITIES.flatMap((severity) => RULES.map((r) => ({ ...base, severity, rule: r.id })));
    assertValid(validateScanReport(report(findings)), 'all severities × all rules');
  });

  test('SARIF validates against the SARIF 2.1.0 schema, with relative, file:// and synthetic image URIs', () => {
    for (const cwd of ['/repo', '/elsewhere']) {
      const doc = JSON.parse(renderSarif(everyField(), { version: '1.2.3', cwd })) as {
        runs: { results: { locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[];
      };
      assertValid(validateSarif(doc), `SARIF (cwd ${cwd})`);
      // SARIF errata01: a region needs startLine, charOffset or byteOffset (the schema we ship predates it)
      for (const r of doc.runs[0]?.results ?? [])
        assert.ok((r.locations[0]?.physicalLocation.region.startLine ?? 0) >= 1);
    }
    assertValid(validateSarif(JSON.parse(renderSarif([], { version: '1.2.3' }))), 'an empty SARIF log');
  });

  test('the JSON schema rejects a bad severity, a missing field, an unknown field and a full key id', () => {
    const bad = (change: (doc: Record<string, unknown>) => void): Validation => {
      const doc = report(everyField());
      change(doc);
      return validateScanReport(doc);
    };
    assertInvalid(
      bad((d) => (firstFinding(d).severity = 'severe')),
      /\/findings\/0\/severity: must be equal to one of the allowed values/,
      'severity "severe"',
    );
    assertInvalid(
      bad((d) => delete firstFinding(d).fingerprint),
      /\/findings\/0: must have required property 'fingerprint'/,
      'a finding without fingerprint',
    );
    assertInvalid(
      bad((d) => delete (firstFinding(d).location as Record<string, unknown>).path),
      /\/findings\/0\/location: must have required property 'path'/,
      'a location without path',
    );
    assertInvalid(
      bad((d) => delete d.tool),
      /^\/: must have required property 'tool'/,
      'a report without tool',
    );
    assertInvalid(
      bad((d) => (firstFinding(d).secretPair = { accessKeyId: 'x', secretAccessKey: 'y' })),
      /\/findings\/0: must NOT have additional properties \{"additionalProperty":"secretPair"\}/,
      'a finding with the in-memory secretPair',
    );
    assertInvalid(
      bad((d) => (firstFinding(d).keyId = fakeAccessKeyId())),
      /\/findings\/0\/keyId: must match pattern/,
      'a full access key id',
    );
    assertInvalid(
      bad((d) => ((firstFinding(d).location as Record<string, unknown>).line = 0)),
      /\/findings\/0\/location\/line: must be >= 1/,
      'line 0',
    );
    assertInvalid(
      bad((d) => (d.version = 2)),
      /\/version: must be equal to constant/,
      'version 2',
    );
    assertInvalid(
      bad((d) => {
        const loc = firstFinding(d).location as Record<string, unknown>;
        loc.layer = { index: 1, digest };
        delete loc.image;
      }),
      /\/findings\/0\/location: must have property image when property layer is present/,
      'a layer without its image',
    );
  });

  test('the SARIF schema is enforced: a result without message, a bad level and an unknown top-level field are rejected', () => {
    const bad = (
      change: (doc: { runs: { results: Record<string, unknown>[] }[] } & Record<string, unknown>) => void,
    ): Validation => {
      const doc = JSON.parse(renderSarif(everyField(), { version: '1.2.3', cwd: '/repo' }));
      change(doc);
      return validateSarif(doc);
    };
    assertInvalid(
      bad((d) => delete d.runs[0]?.results[0]?.message),
      /\/runs\/0\/results\/0: must have required property 'message'/,
      'a result without message',
    );
    assertInvalid(
      bad((d) => ((d.runs[0]?.results[0] as Record<string, unknown>).level = 'critical')),
      /\/runs\/0\/results\/0\/level: must be equal to one of the allowed values/,
      'level "critical"',
    );
    assertInvalid(
      bad((d) => (d.findings = [])),
      /^\/: must NOT have additional properties/,
      'an unknown top-level property',
    );
    assertInvalid(
      bad((d) => (d.version = '2.0.0')),
      /\/version: must be equal to one of the allowed values/,
      'version 2.0.0',
    );
  });
});
