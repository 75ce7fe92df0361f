// The token readers with an injected fetch standing in for the runner (the real HTTP path is tested
// against a stand-in server in test/integration/oidc-source.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isKeylessError } from '../../errors.js';
import { oidcTokenSource } from './token-source.js';
import { webIdentitySessionName } from './from-web-identity.js';

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
const REQUEST_TOKEN = 'request-token-value-123';

function rejectsNaming(p: Promise<unknown>, code: string, names: RegExp, secret?: string): Promise<void> {
  return assert.rejects(p, (err: unknown) => {
    assert.ok(isKeylessError(err), String(err));
    assert.equal(err.code, code);
    assert.match(err.message, names);
    if (secret) assert.ok(!err.message.includes(secret), 'the message carries no secret');
    return true;
  });
}

describe('OIDC token readers', () => {
  test('github: the request carries the bearer request token and the audience; the value is returned', async () => {
    const seen: { url: string; auth: string | null }[] = [];
    const read = oidcTokenSource(
      { kind: 'github', audience: 'sts.amazonaws.com' },
      {
        vars: {
          ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.test/idtoken?api-version=2.0',
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        },
        fetch: (async (url: URL, init: RequestInit) => {
          seen.push({ url: String(url), auth: new Headers(init.headers).get('authorization') });
          return new Response(JSON.stringify({ count: 1, value: JWT }), { status: 200 });
        }) as typeof fetch,
      },
    );
    assert.equal(await read(), JWT);
    assert.deepEqual(seen, [
      {
        url: 'https://runner.test/idtoken?api-version=2.0&audience=sts.amazonaws.com',
        auth: `Bearer ${REQUEST_TOKEN}`,
      },
    ]);
  });

  test('github: missing variables and a refused request name the variable to check, never its value', async () => {
    await rejectsNaming(
      oidcTokenSource({ kind: 'github', audience: 'a' }, { vars: {} })(),
      'SOURCE_OIDC_NO_TOKEN',
      /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN.*id-token: write/,
    );
    const refused = oidcTokenSource(
      { kind: 'github', audience: 'a' },
      {
        vars: {
          ACTIONS_ID_TOKEN_REQUEST_URL: 'https://runner.test/t',
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
        },
        fetch: (async () => new Response('{"message":"bad"}', { status: 401 })) as typeof fetch,
      },
    );
    await rejectsNaming(
      refused(),
      'SOURCE_OIDC_REQUEST_REFUSED',
      /Check ACTIONS_ID_TOKEN_REQUEST_TOKEN/,
      REQUEST_TOKEN,
    );
  });

  test('gitlab and env: read the variable each time; unset names it and how GitLab sets it', async () => {
    await rejectsNaming(
      oidcTokenSource({ kind: 'gitlab', variable: 'AWS_OIDC_TOKEN' }, { vars: {} })(),
      'SOURCE_OIDC_NO_TOKEN',
      /AWS_OIDC_TOKEN is not set[\s\S]*id_tokens/,
    );
    assert.equal(await oidcTokenSource({ kind: 'env', variable: 'T' }, { vars: { T: ` ${JWT}\n` } })(), JWT);
    await rejectsNaming(
      oidcTokenSource(
        { kind: 'env', variable: 'KEYLESS_PASSPHRASE' },
        { vars: { KEYLESS_PASSPHRASE: 'correct horse' } },
      )(),
      'SOURCE_OIDC_NO_TOKEN',
      /variable KEYLESS_PASSPHRASE does not hold an OIDC token/,
      'correct horse',
    );
  });

  test('file: re-read on every call (a projected token file is rewritten before it expires)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyless-oidc-'));
    const path = join(dir, 'token');
    const read = oidcTokenSource({ kind: 'file', path }, { vars: {} });
    await rejectsNaming(read(), 'SOURCE_OIDC_NO_TOKEN', /ENOENT.*web_identity_token_file/);
    await writeFile(path, `${JWT}\n`);
    assert.equal(await read(), JWT);
    await writeFile(path, `${JWT}x`);
    assert.equal(await read(), `${JWT}x`);
    await writeFile(path, '-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n');
    await rejectsNaming(read(), 'SOURCE_OIDC_NO_TOKEN', /does not hold an OIDC token/, 'abc');
  });

  test('session names say which CI run they came from, within STS limits', () => {
    assert.equal(
      webIdentitySessionName({ kind: 'github', audience: 'a' }, { GITHUB_RUN_ID: '123' }),
      'keyless-github-123',
    );
    assert.equal(
      webIdentitySessionName({ kind: 'gitlab', variable: 'V' }, { CI_JOB_ID: '9' }),
      'keyless-gitlab-9',
    );
    assert.equal(webIdentitySessionName({ kind: 'file', path: '/x' }, {}), 'keyless-oidc');
    assert.ok(
      webIdentitySessionName({ kind: 'github', audience: 'a' }, { GITHUB_RUN_ID: 'x'.repeat(99) }).length <=
        64,
    );
  });
});
