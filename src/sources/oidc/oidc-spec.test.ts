import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatOidcSpec, parseOidcSpec } from './oidc-spec.js';
import { oidcSpecFromFlags } from './index.js';

describe('--oidc values', () => {
  test('github asks for sts.amazonaws.com unless --oidc-audience names another', () => {
    assert.deepEqual(parseOidcSpec('github'), { kind: 'github', audience: 'sts.amazonaws.com' });
    assert.deepEqual(parseOidcSpec('github', { oidcAudience: 'https://example.test/x' }), {
      kind: 'github',
      audience: 'https://example.test/x',
    });
  });

  test('gitlab reads AWS_OIDC_TOKEN unless --oidc-token-env names another variable', () => {
    assert.deepEqual(parseOidcSpec('gitlab'), { kind: 'gitlab', variable: 'AWS_OIDC_TOKEN' });
    assert.deepEqual(parseOidcSpec('gitlab', { oidcTokenEnv: 'MY_JWT' }), {
      kind: 'gitlab',
      variable: 'MY_JWT',
    });
  });

  test('file:PATH and env:VAR name the place; paths keep their colons', () => {
    assert.deepEqual(parseOidcSpec('file:/run/a:b/token'), { kind: 'file', path: '/run/a:b/token' });
    assert.deepEqual(parseOidcSpec('env:CI_JWT'), { kind: 'env', variable: 'CI_JWT' });
  });

  test('the one-line form used in labels and lease keys reads back to the same spec', () => {
    for (const s of [
      parseOidcSpec('github', { oidcAudience: 'https://a.test:8443/aud' }),
      parseOidcSpec('gitlab', { oidcTokenEnv: 'X' }),
      parseOidcSpec('env:Y'),
      parseOidcSpec('file:/t/tok'),
    ])
      assert.deepEqual(parseOidcSpec(formatOidcSpec(s)), s);
  });

  test('bad values and misplaced companions are refused with what to write', () => {
    assert.throws(() => parseOidcSpec('circleci'), /not one of github, gitlab, file:PATH or env:VAR/);
    assert.throws(() => parseOidcSpec('env:'), /needs the variable name/);
    assert.throws(() => parseOidcSpec('env:A-B'), /not an environment variable name/);
    assert.throws(() => parseOidcSpec('file:'), /needs the token file/);
    assert.throws(() => parseOidcSpec('gitlab', { oidcAudience: 'x' }), /applies to --oidc github only/);
    assert.throws(() => parseOidcSpec('github', { oidcTokenEnv: 'X' }), /applies to --oidc gitlab only/);
    assert.throws(() => oidcSpecFromFlags({ oidcAudience: 'x' }), /--oidc-audience needs --oidc/);
    assert.equal(oidcSpecFromFlags({}), undefined);
  });
});
