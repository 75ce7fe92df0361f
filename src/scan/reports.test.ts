import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCredentials } from './detectors.js';
import { renderJson, renderSarif, renderText, sarifUri } from './reports.js';
import { RULES } from './rules.js';
import type { Finding } from './types.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const id = fakeAccessKeyId();
const secret = fakeSecretAccessKey();

function sampleFindings(): Finding[] {
  const inFile = detectCredentials(`a\nkey=${id}\nsecret=${secret}\n`, {
    base: { path: '/repo/app/config.ini' },
  });
  const inLayer = detectCredentials(`aws_secret_access_key = ${secret}`, {
    base: { path: 'image/local/app:1/layer2/root/.aws/credentials', image: 'local/app:1' },
  }).map((f) => ({
    ...f,
    location: { ...f.location, layer: { index: 2, digest: `sha256:${'a'.repeat(64)}` } },
    deleted: 'deleted in layer 3, still extractable from layer 2',
  }));
  return [...inFile, ...inLayer];
}

// The GitHub code scanning rules from reference/scanning.md §5, as checks.
interface SarifRule {
  id: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string };
  defaultConfiguration: { level: string };
  properties: { 'security-severity': unknown; tags: string[] };
}
interface SarifResult {
  ruleId: string;
  ruleIndex: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[];
  partialFingerprints: { primaryLocationLineHash: string };
}
interface SarifLog {
  $schema: string;
  version: string;
  runs: {
    tool: { driver: { name: string; rules: SarifRule[] } };
    automationDetails: { id: string };
    results: SarifResult[];
  }[];
}

function checkSarif(doc: SarifLog): void {
  assert.equal(doc.version, '2.1.0');
  assert.match(doc.$schema, /sarif-2\.1\.0/);
  assert.equal(doc.runs.length, 1);
  const run = doc.runs[0] as SarifLog['runs'][number];
  assert.ok(run.tool.driver.name);
  assert.ok(Array.isArray(run.tool.driver.rules));
  assert.match(run.automationDetails.id, /\/$/, 'the category id ends in "/"');
  for (const r of run.tool.driver.rules) {
    assert.ok(r.id && r.shortDescription.text && r.fullDescription.text && r.help.text);
    assert.ok(r.fullDescription.text.length <= 1024);
    assert.ok(['note', 'warning', 'error'].includes(r.defaultConfiguration.level));
    const sev = Number(r.properties['security-severity']);
    assert.ok(typeof r.properties['security-severity'] === 'string' && sev >= 0.1 && sev <= 10);
    assert.ok(r.properties.tags.includes('security') && r.properties.tags.length <= 20);
  }
  const ids = run.tool.driver.rules.map((r: { id: string }) => r.id);
  for (const res of run.results) {
    const loc = res.locations[0]?.physicalLocation;
    assert.ok(loc);
    assert.ok(ids.includes(res.ruleId));
    assert.equal(ids[res.ruleIndex], res.ruleId);
    assert.ok(res.message.text);
    assert.ok(['note', 'warning', 'error'].includes(res.level));
    assert.equal(res.locations.length, 1, 'exactly one location');
    assert.ok(loc.artifactLocation.uri && !loc.artifactLocation.uri.startsWith('/'));
    assert.ok(Number.isInteger(loc.region.startLine) && loc.region.startLine >= 1);
    assert.match(res.partialFingerprints.primaryLocationLineHash, /^[0-9a-f]{32}:1$/);
  }
}

describe('reports', () => {
  test('SARIF follows the GitHub code scanning rules: registry rules, one physical location, own fingerprints', () => {
    const text = renderSarif(sampleFindings(), { version: '1.2.3', cwd: '/repo' });
    checkSarif(JSON.parse(text) as SarifLog);
    const run = JSON.parse(text).runs[0];
    assert.deepEqual(
      run.tool.driver.rules.map((r: { id: string }) => r.id),
      RULES.map((r) => r.id),
    );
    assert.equal(run.results[0].locations[0].physicalLocation.artifactLocation.uri, 'app/config.ini');
    assert.ok(!text.includes(secret) && !text.includes(id), 'never the secret or the full key id');
  });

  test('SARIF URIs: relative under the checkout, file:// outside it, image places as synthetic relative paths', () => {
    assert.equal(sarifUri('/repo/a b/Dockerfile', '/repo'), 'a%20b/Dockerfile');
    assert.equal(sarifUri('/elsewhere/x.env', '/repo'), 'file:///elsewhere/x.env');
    assert.equal(sarifUri('image/local/app:1/layer2/etc/x', '/repo'), 'image/local/app%3A1/layer2/etc/x');
  });

  test('JSON has the documented stable shape and no secret', () => {
    const text = renderJson(sampleFindings(), '1.2.3');
    const doc = JSON.parse(text);
    assert.deepEqual(Object.keys(doc), ['version', 'tool', 'findings']);
    assert.equal(doc.version, 1);
    for (const f of doc.findings) {
      for (const k of ['rule', 'severity', 'message', 'fix', 'location', 'excerpt', 'fingerprint'])
        assert.ok(k in f, `${k} present`);
      for (const k of Object.keys(f))
        assert.ok(
          [
            'rule',
            'severity',
            'message',
            'fix',
            'location',
            'excerpt',
            'fingerprint',
            'keyId',
            'account',
            'owner',
            'deleted',
            'verified',
          ].includes(k),
          `${k} is documented`,
        );
      assert.equal(typeof f.location.path, 'string');
    }
    const layered = doc.findings.find((f: { location: { layer?: unknown } }) => f.location.layer);
    assert.deepEqual(layered.location.layer, { index: 2, digest: `sha256:${'a'.repeat(64)}` });
    assert.ok(!text.includes(secret) && !text.includes(id));
  });

  test('text names severity, place (file:line, or image layer and path), the deletion and the fix, never the secret', () => {
    const text = renderText(sampleFindings());
    assert.match(text, /CRITICAL +SCAN_AWS_SECRET_ACCESS_KEY +\/repo\/app\/config\.ini:3/);
    assert.match(text, /local\/app:1 layer 2 \(sha256:a{12}\) .*root\/\.aws\/credentials/);
    assert.match(text, /deleted in layer 3, still extractable from layer 2/);
    assert.match(text, /fix: /);
    assert.ok(!text.includes(secret) && !text.includes(id));
  });
});
