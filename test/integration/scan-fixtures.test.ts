// The scanner's test corpus: every folder under test/fixtures/scan is scanned as a directory.
// ng.* must produce exactly the findings in expected.json; ok.* nothing above informational.
// UPDATE_FIXTURES=1 rewrites expected.json (review the diff).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { CREDENTIAL_KINDS, expandFixture } from '../helpers/scan-fixtures.js';
import { scanDirectory } from '../../src/scan/targets.js';
import { dedupeFindings, sortFindings } from '../../src/scan/findings.js';
import { fingerprint, Rule } from '../../src/scan/detectors.js';
import type { Finding } from '../../src/scan/types.js';

// dist/test/integration → the committed fixtures in the source tree
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/scan/', import.meta.url));

interface Expected {
  rule: string;
  severity: string;
  path: string;
  line?: number;
  offset?: number;
  /** the decodings that led to it */
  decoded?: string[];
}

describe('scanner fixture corpus', () => {
  const cases = readdirSync(FIXTURES).filter((d) => /^(ok|ng)\./.test(d));
  test('has positive and negative cases', () => {
    assert.ok(cases.filter((c) => c.startsWith('ng.')).length >= 15);
    assert.ok(cases.filter((c) => c.startsWith('ok.')).length >= 10);
  });
  for (const name of cases) {
    test(`${name}: ${name.startsWith('ok.') ? 'no findings above informational' : 'exactly the expected findings'}`, async (t) => {
      const dir = await tempDir(t, 'keyless-fixture-');
      const { values } = await expandFixture(join(FIXTURES, name, 'input'), dir);
      const findings = sortFindings(dedupeFindings(await scanDirectory(dir)));
      const got: Expected[] = findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        path: relative(dir, f.location.path),
        ...(f.location.line !== undefined ? { line: f.location.line } : {}),
        ...(f.location.offset !== undefined ? { offset: f.location.offset } : {}),
        ...(f.decoded ? { decoded: f.decoded } : {}),
      }));
      // credentials never show in a report (placeholders such as AKIA_XXXX may: they are not secret)
      const generated = [...values.entries()].filter(([k]) => CREDENTIAL_KINDS.test(k)).map(([, v]) => v);
      for (const f of findings) {
        const shown = `${f.message} ${f.excerpt} ${f.fix}`;
        for (const v of generated)
          assert.ok(!shown.includes(v), `${name}: a generated value leaks into the report`);
      }
      const expectedFile = join(FIXTURES, name, 'expected.json');
      if (process.env.UPDATE_FIXTURES === '1') {
        await writeFile(expectedFile, `${JSON.stringify(got, null, 2)}\n`);
        return;
      }
      const expected = JSON.parse(await readFile(expectedFile, 'utf8')) as Expected[];
      assert.deepEqual(got, expected);
      if (name.startsWith('ok.'))
        assert.ok(
          got.every((g) => g.severity === 'info'),
          JSON.stringify(got),
        );
      else
        assert.ok(
          got.some((g) => g.severity !== 'info'),
          'an ng case has at least one real finding',
        );
    });
  }

  // The figures the README states: every credential planted in an ng.* case is found (by its
  // fingerprint: the rule, the value and the file), and nothing above informational is reported that
  // is not a planted credential (in ok.* cases or around the planted ones in ng.* cases).
  test('recall and false positives over the whole corpus', async (t) => {
    const VALUE_RULES: string[] = [Rule.ACCESS_KEY_ID, Rule.SECRET_ACCESS_KEY, Rule.SESSION_TOKEN];
    let planted = 0;
    let found = 0;
    let falsePositives = 0;
    let infos = 0;
    const missed: string[] = [];
    for (const name of cases) {
      const dir = await tempDir(t, 'keyless-fixture-');
      const { values } = await expandFixture(join(FIXTURES, name, 'input'), dir);
      const findings: Finding[] = dedupeFindings(await scanDirectory(dir));
      const credentials = [...values.entries()].filter(([k]) => CREDENTIAL_KINDS.test(k));
      const prints = new Map<string, string>();
      for (const f of findings)
        if (VALUE_RULES.includes(f.rule)) prints.set(f.fingerprint, relative(dir, f.location.path));
      const matched = new Set<string>();
      if (name.startsWith('ng.')) {
        for (const [k, v] of credentials) {
          planted++;
          const hit = [...prints.entries()].find(([fp, path]) =>
            VALUE_RULES.some((rule) => fingerprint(rule, v, join(dir, path)) === fp),
          );
          if (hit) {
            found++;
            matched.add(hit[0]);
          } else missed.push(`${name}: ${k}`);
        }
      }
      for (const f of findings) {
        if (f.severity === 'info') infos++;
        else if (VALUE_RULES.includes(f.rule) && !matched.has(f.fingerprint)) falsePositives++;
        else if (name.startsWith('ok.')) falsePositives++;
      }
    }
    t.diagnostic(
      `corpus: ${cases.length} cases; recall ${found}/${planted} planted credentials; ${falsePositives} false positives above info; ${infos} informational findings (examples, placeholders)`,
    );
    assert.ok(planted >= 60, `the corpus plants enough credentials (${planted})`);
    assert.deepEqual(missed, [], 'every planted credential is found');
    assert.equal(falsePositives, 0);
  });
});
