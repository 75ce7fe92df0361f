// The Vault source against a stand-in Vault HTTP server (no Vault can run here) whose credentials are
// real ones minted from moto_server; every AWS call after Vault is SigV4-checked by moto.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startVaultStandin, addToken, type VaultStandin } from '../helpers/vault-standin.js';
import { makeTestEnv } from '../helpers/env.js';
import { loadEnv } from '../../src/config/env.js';
import { createVaultSource } from '../../src/sources/vault/index.js';
import type { Credentials } from '../../src/sources/types.js';
import type { TestContext } from 'node:test';

async function callerArn(moto: Moto, c: Credentials): Promise<string> {
  const sts = new STSClient({ region: 'us-east-1', endpoint: moto.url, maxAttempts: 1, credentials: c });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? '';
  } finally {
    sts.destroy();
  }
}

async function setup(t: TestContext, configure?: (v: VaultStandin) => void) {
  const moto = await startMoto(t, { roles: ['deploy-role'] });
  const vault = await startVaultStandin(t, moto);
  vault.roles.set('deploy', {
    type: 'assumed_role',
    roleArns: [moto.identity.roles['deploy-role'] as string],
    defaultTtlSeconds: 900,
  });
  vault.roles.set('builder', { type: 'iam_user' });
  const token = addToken(vault, { paths: ['*'] });
  configure?.(vault);
  const te = await makeTestEnv(t, {
    endpoint: moto.url,
    extra: { VAULT_ADDR: vault.url, VAULT_TOKEN: token },
  });
  return { moto, vault, token, te, env: loadEnv(te.vars) };
}

describe('Vault source (stand-in Vault, real moto credentials)', () => {
  test('assumed_role credentials from aws/sts/ROLE sign a real call as the role and the lease is revoked', async (t) => {
    const { moto, vault, env } = await setup(t);
    const source = createVaultSource({ path: 'aws/sts/deploy', ttl: '15m' }, { env });
    const creds = await source();
    assert.ok(creds.sessionToken, 'a session token');
    assert.ok(
      creds.expiration && creds.expiration.getTime() > Date.now() + 800_000,
      'expiry from lease_duration',
    );
    assert.match(await callerArn(moto, creds), /assumed-role\/deploy-role\//);
    assert.equal(source.leases().length, 1);
    const leaseId = source.leases()[0]?.leaseId;
    await source.revokeAll();
    assert.deepEqual(vault.revoked, [leaseId]);
    assert.equal(source.leases().length, 0);
    const put = vault.requests.find((r) => r.path === '/v1/aws/sts/deploy');
    assert.equal(put?.method, 'PUT', 'ttl is sent in a PUT body');
  });

  test('reads security_token when the server has no session_token (Vault < 1.16, OpenBao)', async (t) => {
    const { moto, env } = await setup(t, (v) => (v.legacyTokenField = true));
    const creds = await createVaultSource({ path: 'aws/creds/deploy' }, { env })();
    assert.ok(creds.sessionToken);
    assert.match(await callerArn(moto, creds), /assumed-role\/deploy-role\//);
  });

  test('iam_user keys are handed out only once they work, and revoking deletes the user at moto', async (t) => {
    const { moto, vault, env } = await setup(t);
    const source = createVaultSource({ path: 'aws/creds/builder' }, { env });
    const creds = await source();
    assert.equal(creds.sessionToken, undefined);
    assert.match(await callerArn(moto, creds), /:user\/vault-builder-/);
    await source.revokeAll();
    assert.equal(vault.revoked.length, 1);
    await assert.rejects(callerArn(moto, creds), /InvalidClientTokenId|not valid|security token/i);
  });

  test('sends X-Vault-Namespace from VAULT_NAMESPACE', async (t) => {
    const { vault, te } = await setup(t, (v) => (v.requireNamespace = 'team-a'));
    const env = loadEnv({ ...te.vars, VAULT_NAMESPACE: 'team-a' });
    await createVaultSource({ path: 'aws/sts/deploy' }, { env })();
    assert.ok(vault.requests.every((r) => r.namespace === 'team-a'));
  });

  const errorCases: {
    name: string;
    code: RegExp;
    message: RegExp;
    configure: (v: VaultStandin, token: string) => void;
    path?: string;
  }[] = [
    {
      name: 'a sealed Vault',
      code: /SOURCE_VAULT_SEALED/,
      message: /sealed.*vault operator unseal/,
      configure: (v) => (v.sealed = true),
    },
    {
      name: 'an expired token',
      code: /SOURCE_VAULT_TOKEN_EXPIRED/,
      message: /expired or invalid.*vault login/,
      configure: (v, token) => v.tokens.set(token, { paths: ['*'], expiresAt: Date.now() - 1000 }),
    },
    {
      name: 'a token whose policy does not allow the path',
      code: /SOURCE_VAULT_PERMISSION_DENIED/,
      message: /policies do not allow.*aws\/sts\/deploy/,
      configure: (v, token) => v.tokens.set(token, { paths: ['aws/creds/other'] }),
    },
    {
      name: 'an unknown role',
      code: /SOURCE_VAULT_UNKNOWN_ROLE/,
      message: /vault list aws\/roles/,
      configure: () => undefined,
      path: 'aws/sts/nope',
    },
  ];
  for (const c of errorCases) {
    test(`names ${c.name} plainly with the fix`, async (t) => {
      const { env, vault, token } = await setup(t);
      c.configure(vault, token);
      await assert.rejects(
        createVaultSource({ path: c.path ?? 'aws/sts/deploy', profile: 'vp' }, { env })(),
        (e: Error & { code?: string }) => {
          assert.match(e.code ?? '', c.code);
          assert.match(e.message, c.message);
          assert.ok(!e.message.includes(token), 'never prints the token');
          return true;
        },
      );
    });
  }

  test('no token anywhere is a clear error that says to run vault login', async (t) => {
    const te = await makeTestEnv(t, { extra: { VAULT_ADDR: 'http://127.0.0.1:1' } });
    assert.throws(
      () => createVaultSource({ path: 'aws/sts/deploy' }, { env: loadEnv(te.vars) }),
      /vault login/,
    );
  });
});

export type { TestContext };
