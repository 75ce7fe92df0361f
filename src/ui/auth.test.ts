import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCookies, SESSION_COOKIE, sessionCookie, UiAuth } from './auth.js';

describe(UiAuth.name, () => {
  test('exchanges the login token for a session once; the second use is refused', () => {
    const auth = new UiAuth();
    const token = auth.pendingLoginToken as string;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    const first = auth.login(token);
    assert.ok(first);
    assert.equal(auth.pendingLoginToken, undefined);
    assert.equal(auth.login(token), undefined);
  });

  test('refuses a wrong, empty or truncated login token and keeps the right one usable', () => {
    const auth = new UiAuth();
    const token = auth.pendingLoginToken as string;
    for (const wrong of ['', token.slice(1), `${token}x`, token.toUpperCase()])
      assert.equal(auth.login(wrong), undefined, wrong);
    assert.ok(auth.login(token));
  });

  test('finds the session from the Cookie header only with the exact session id', () => {
    const auth = new UiAuth();
    const { sessionId, session } = auth.login(auth.pendingLoginToken as string) ?? assert.fail();
    assert.equal(auth.session(`a=b; ${SESSION_COOKIE}=${sessionId}`), session);
    assert.equal(auth.session(`${SESSION_COOKIE}=${sessionId}x`), undefined);
    assert.equal(auth.session(undefined), undefined);
    assert.equal(auth.session(`other=${sessionId}`), undefined);
  });

  test('accepts only the session CSRF token, as one header value', () => {
    const auth = new UiAuth();
    const { session } = auth.login(auth.pendingLoginToken as string) ?? assert.fail();
    assert.equal(auth.csrfValid(session, session.csrf), true);
    assert.equal(auth.csrfValid(session, undefined), false);
    assert.equal(auth.csrfValid(session, ''), false);
    assert.equal(auth.csrfValid(session, [session.csrf, session.csrf]), false);
    assert.equal(auth.csrfValid(session, `${session.csrf.slice(0, -1)}A`), session.csrf.endsWith('A'));
  });

  test('the cookie is HttpOnly, SameSite=Strict and for the whole page', () => {
    const c = sessionCookie('abc');
    assert.match(c, /^keyless_ui_session=abc; /);
    assert.match(c, /; HttpOnly/);
    assert.match(c, /; SameSite=Strict/);
    assert.match(c, /; Path=\//);
  });

  test('parseCookies keeps the first of a repeated name and ignores malformed parts', () => {
    const m = parseCookies('a=1; b=2; a=3; junk; =x');
    assert.equal(m.get('a'), '1');
    assert.equal(m.get('b'), '2');
    assert.equal(m.size, 2);
  });
});
