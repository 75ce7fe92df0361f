import { test } from 'node:test';
import assert from 'node:assert/strict';
import { swarmCredentialRequest } from './credential-request.js';
import { agentServiceSpec } from './agent-install.js';
import { KeylessError } from '../../errors.js';

const ROLE = 'arn:aws:iam::111122223333:role/app';

test("a service's own profile wins over the agent's web identity and source profile", () => {
  assert.deepEqual(
    swarmCredentialRequest(
      { profile: 'svc', roleArn: ROLE },
      { oidc: 'file:/t', sourceProfile: 'base' },
      900,
    ),
    { profile: 'svc', roleArn: ROLE, durationSeconds: 900 },
  );
});

test("with a web identity source, the service's role is what the token is exchanged for", () => {
  assert.deepEqual(swarmCredentialRequest({ roleArn: ROLE }, { oidc: 'file:/run/secrets/tok' }, 3600), {
    oidc: { kind: 'file', path: '/run/secrets/tok' },
    roleArn: ROLE,
    durationSeconds: 3600,
  });
  assert.deepEqual(
    swarmCredentialRequest({ roleArn: ROLE }, { oidc: 'github:sts.amazonaws.com' }, 3600).oidc,
    {
      kind: 'github',
      audience: 'sts.amazonaws.com',
    },
  );
});

test('a web identity source without a role is a usage error naming --role-arn', () => {
  assert.throws(
    () => swarmCredentialRequest({}, { oidc: 'file:/t' }, 900),
    (e: unknown) => e instanceof KeylessError && /--role-arn/.test(e.message),
  );
});

test('without web identity, the role is assumed on top of the source profile (or the default chain)', () => {
  assert.deepEqual(swarmCredentialRequest({ roleArn: ROLE }, { sourceProfile: 'base' }, 900), {
    profile: 'base',
    roleArn: ROLE,
    durationSeconds: 900,
  });
  assert.deepEqual(swarmCredentialRequest({ roleArn: ROLE }, {}, 900), {
    roleArn: ROLE,
    durationSeconds: 900,
  });
});

test('agent install: a node token file is bound read-only at its path; a Swarm secret is not bound again', () => {
  const base = { name: 'keyless-agent', image: 'r/keyless:1', sessionDuration: 3600, refreshBefore: 1800 };
  const onNode = agentServiceSpec({ ...base, oidcTokenFile: '/var/run/keyless/token', secrets: [] });
  const cs = onNode.TaskTemplate.ContainerSpec;
  assert.deepEqual((cs.Args as string[]).slice(-2), ['--oidc', 'file:/var/run/keyless/token']);
  assert.deepEqual((cs.Mounts as unknown[])[1], {
    Type: 'bind',
    Source: '/var/run/keyless/token',
    Target: '/var/run/keyless/token',
    ReadOnly: true,
  });
  const inSecret = agentServiceSpec({ ...base, oidcTokenFile: '/run/secrets/oidc', secrets: ['oidc'] });
  assert.equal((inSecret.TaskTemplate.ContainerSpec.Mounts as unknown[]).length, 1, 'only the docker socket');
  assert.equal(inSecret.TaskTemplate.ContainerSpec.Secrets?.[0]?.SecretName, 'oidc');
});
