import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { base64Spans, escapeSpans } from './decode.js';
import { detectCredentials } from './detectors.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../../test/helpers/keys.js';

const scan = (text: string) => detectCredentials(text, { base: { path: 'f' } });

describe('decoders', () => {
  test('base64: a key id is found at every byte alignment of the encoded value', () => {
    for (const prefix of ['AKIA', 'ASIA', 'ABIA', 'ACCA'])
      for (let pad = 0; pad < 3; pad++) {
        const id = fakeAccessKeyId(prefix);
        const value = Buffer.from(`${'#'.repeat(pad)}key=${id}\n`).toString('base64');
        const spans = base64Spans(`data: ${value}\n`);
        assert.equal(spans.length, 1, `${prefix} pad ${pad}`);
        assert.equal(spans[0]?.at, 6);
        assert.ok(spans[0]?.text.includes(id));
        const f = scan(`data: ${value}\n`);
        assert.deepEqual(f[0]?.decoded, ['base64'], `${prefix} pad ${pad}`);
      }
  });

  test('base64url values are decoded too', () => {
    const id = fakeAccessKeyId();
    // bytes that give "-" or "_" in base64url
    const value = Buffer.from(`\u00fb\u00ff key=${id}`, 'latin1').toString('base64url');
    assert.ok(/[-_]/.test(value));
    assert.equal(base64Spans(value).length, 0, 'decodes to bytes that are not UTF-8 text: skipped');
    const text = Buffer.from(`~~>? key=${id}`).toString('base64url');
    assert.ok(base64Spans(text)[0]?.text.includes(id));
  });

  test('base64 that decodes to bytes, not text, is left alone (no noise from binary blobs)', () => {
    const id = fakeAccessKeyId();
    const value = Buffer.concat([Buffer.from(id), randomBytes(64), Buffer.from([0])]).toString('base64');
    assert.deepEqual(base64Spans(value), []);
    assert.deepEqual(scan(`blob: ${value}`), []);
  });

  test('JSON escapes, URL-encoding and HTML entities are decoded and keep the line count', () => {
    const text = 'a: "\\u0041B\\/C"\nb: %41%2F%0A\nc: &#65;&#x42;&quot;&amp;\n';
    const spans = escapeSpans(text);
    assert.deepEqual(
      spans.map((s) => s.decoding),
      ['json-escape', 'url', 'html'],
    );
    assert.match(spans[0]?.text ?? '', /a: "AB\/C"/);
    assert.match(spans[1]?.text ?? '', /b: A\/%0A/, 'an encoded newline stays encoded');
    assert.match(spans[2]?.text ?? '', /c: AB"&/);
    for (const s of spans) assert.equal(s.text.split('\n').length, text.split('\n').length);
    assert.deepEqual(escapeSpans('plain text, 100% sure & done'), []);
  });

  test('a finding says which decoding led to it, and the redacted report never shows the decoded secret', () => {
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    const html = [...`aws_access_key_id=${id} aws_secret_access_key=${secret}`]
      .map((c) => `&#${c.charCodeAt(0)};`)
      .join('');
    const f = scan(`<p>${html}</p>`);
    assert.deepEqual(
      f.map((x) => [x.rule, x.decoded]),
      [
        ['SCAN_AWS_ACCESS_KEY_ID', ['html']],
        ['SCAN_AWS_SECRET_ACCESS_KEY', ['html']],
      ],
    );
    for (const x of f) {
      assert.match(x.message, /after decoding html/);
      assert.ok(!`${x.message} ${x.excerpt}`.includes(secret));
    }
  });

  test('depth is bounded: decodings nest up to three deep', () => {
    const id = fakeAccessKeyId();
    let value = `key=${id}`;
    // base64 inside JSON escapes inside URL-encoding: url → json-escape → base64
    value = Buffer.from(value).toString('base64');
    value = [...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const text = `x=${value.replace(/\\/g, '%5C')} %41`;
    const f = scan(text);
    assert.deepEqual(f[0]?.decoded, ['url', 'json-escape', 'base64']);
  });
});
