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
import { expandFixture } from '../helpers/scan-fixtures.js';
import { scanDirectory } from '../../src/scan/targets.js';
import { dedupeFindings, sortFindings } from '../../src/scan/findings.js';

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
      const generated = [...values.entries()]
        .filter(([k]) =>
          /^(AKIA|ASIA|ABIA|ACCA|AKIA_DIGITS|AKIA_TEST|SECRET|SECRET_SLASH|TOKEN)_\d+$/.test(k),
        )
        .map(([, v]) => v);
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
});
