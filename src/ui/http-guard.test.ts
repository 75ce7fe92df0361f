import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_SECURITY_POLICY, hostAllowed, sameOrigin } from './http-guard.js';

describe('http-guard', () => {
  test('allows only the exact listen address as Host (a rebound name or localhost is refused)', () => {
    assert.equal(hostAllowed('127.0.0.1:4321', '127.0.0.1:4321'), true);
    for (const host of [undefined, '', 'localhost:4321', 'evil.example:4321', '127.0.0.1:4322', '127.0.0.1'])
      assert.equal(hostAllowed(host, '127.0.0.1:4321'), false, String(host));
  });

  test('refuses an action from another origin or a cross-site fetch', () => {
    const o = 'http://127.0.0.1:4321';
    assert.equal(sameOrigin(o, 'same-origin', o), true);
    assert.equal(sameOrigin(undefined, undefined, o), true);
    assert.equal(sameOrigin('http://evil.example', undefined, o), false);
    assert.equal(sameOrigin('null', 'cross-site', o), false);
    assert.equal(sameOrigin(o, 'same-site', o), false);
  });

  test('the CSP allows nothing inline and nothing from another origin', () => {
    assert.match(CONTENT_SECURITY_POLICY, /default-src 'none'/);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*|https?:/);
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'none'/);
  });
});
