// Web identity (OIDC) for Swarm: `keyless swarm secret add --oidc file:PATH --role-arn ARN` on a real
// one-node swarm, and the agent's source request, against moto with STS AssumeRoleWithWebIdentity
// checked as real STS does (test/helpers/moto_sts_web_identity.py: moto itself ignores the token) and
// every other call signature-checked. Tokens are signed by the GitHub stand-in's key
// (test/helpers/github-oidc-standin.ts) and written to a file, as a node or a CI job would have them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import {
  requireDocker,
  lockDockerBridge,
  ensureHostbaseImage,
  hostPythonPrefix,
  docker,
} from '../helpers/docker.js';
import {
  createTestService,
  ensureSwarm,
  startLocalRegistry,
  waitForValidatedTasks,
} from '../helpers/swarm.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { makeTestEnv, type TestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';
import {
  GITHUB_ISSUER,
  githubSubject,
  startGithubOidcStandin,
  type GithubOidcStandin,
} from '../helpers/github-oidc-standin.js';
import { dockerClientFromEnv } from '../../src/docker/engine/index.js';
import { inspectService, listSecrets } from '../../src/docker/engine/swarm.js';
import { loadEnv } from '../../src/config/env.js';
import { createCredentialSource } from '../../src/sources/index.js';
import { swarmCredentialRequest } from '../../src/docker/swarm/credential-request.js';

interface Setup {
  gh: GithubOidcStandin;
  moto: Moto;
  te: TestEnv;
  roleArn: string;
  tokenFile: string;
  /** writes a token valid for `seconds` from now (negative: already expired) */
  writeToken(seconds: number): Promise<string>;
}

async function setup(t: TestContext): Promise<Setup> {
  const gh = await startGithubOidcStandin(t);
  const moto = await startMoto(t, {
    roles: ['swarm-ci'],
    webIdentity: { jwksFile: gh.jwksFile, issuer: GITHUB_ISSUER, audience: 'sts.amazonaws.com' },
  });
  const te = await makeTestEnv(t, { endpoint: moto.url });
  delete te.vars.KEYLESS_PASSPHRASE; // no keyless vault: the token is the only source
  const tokenFile = join(te.home, 'oidc-token');
  const writeToken = async (seconds: number): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const token = gh.sign({
      iss: GITHUB_ISSUER,
      aud: 'sts.amazonaws.com',
      sub: githubSubject(gh.job),
      iat: Math.min(now, now + seconds - 60),
      exp: now + seconds,
    });
    gh.issued.push(token);
    await writeFile(tokenFile, `${token}\n`, { mode: 0o600 });
    return token;
  };
  return { gh, moto, te, roleArn: moto.identity.roles['swarm-ci'] as string, tokenFile, writeToken };
}

test("swarm agent's source for a --role-arn service under --oidc file: exchanges the file's token for that role", async (t) => {
  const s = await setup(t);
  await s.writeToken(600);
  const env = loadEnv(s.te.vars);
  const source = await createCredentialSource(
    swarmCredentialRequest({ roleArn: s.roleArn }, { oidc: `file:${s.tokenFile}` }, 900),
    { env },
  );
  const c = await source();
  assert.ok(c.sessionToken, 'a role session');
  assert.match(c.arn ?? '', /assumed-role\/swarm-ci\//);
});

test(
  'swarm secret add --oidc file: gives the tasks the role; rotate reads the file again (an expired token is a clear error, a fresh one rotates); no token in the service or its secrets',
  { timeout: 600_000 },
  async (t) => {
    if (!(await requireDocker(t))) return;
    await lockDockerBridge(t);
    await ensureSwarm(t);
    const s = await setup(t);
    const registry = await startLocalRegistry(t);
    const image = await registry.push(await ensureHostbaseImage());
    const py = await hostPythonPrefix();
    const name = `ks-oidc-${randomBytes(3).toString('hex')}`;
    await createTestService(t, {
      name,
      image,
      network: 'host',
      motoUrl: s.moto.url,
      py,
      task: '{{.Task.ID}}',
      script: `${py}/bin/python3 -m awscli sts get-caller-identity --query Arn --output text 2>&1 | sed "s/^/$TASK /"; exec sleep 3600`,
    });
    t.after(async () => void (await runKeyless(['swarm', 'secret', 'remove', name], { env: s.te.vars })));
    const client = dockerClientFromEnv(loadEnv(process.env));
    const serviceId = (await inspectService(client, name)).ID;

    const validatedTasks = (secret: string): Promise<string[]> =>
      waitForValidatedTasks(client, { service: name, serviceId, secret, role: 'swarm-ci' });

    await s.writeToken(600);
    const added = await runKeyless(
      ['swarm', 'secret', 'add', name, '--oidc', `file:${s.tokenFile}`, '--role-arn', s.roleArn],
      { env: s.te.vars },
    );
    assert.equal(added.code, 0, added.stderr);
    const first = /secret (keyless-\S+-v1) mounted/.exec(added.stdout)?.[1];
    assert.ok(first, added.stdout);
    await validatedTasks(first);
    const spec = (await inspectService(client, name)).Spec;
    assert.equal(spec.Labels?.['keyless.secret.oidc'], `file:${s.tokenFile}`, 'the source, kept for rotate');

    await s.writeToken(-120); // the file now holds an expired token
    const refused = await runKeyless(['swarm', 'secret', 'rotate', name, '--once', '--now'], {
      env: s.te.vars,
    });
    assert.notEqual(refused.code, 0, 'an expired token cannot rotate');
    assert.match(refused.stderr, /ExpiredToken.*The token has expired/, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(s.tokenFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')),
      refused.stderr,
    );

    await s.writeToken(600);
    const rotated = await runKeyless(['swarm', 'secret', 'rotate', name, '--once', '--now'], {
      env: s.te.vars,
    });
    assert.equal(rotated.code, 0, rotated.stderr);
    const second = /rotated to (keyless-\S+-v2)/.exec(rotated.stdout)?.[1];
    assert.ok(second, rotated.stdout);
    await validatedTasks(second);

    const texts = [
      added.stdout + added.stderr + refused.stdout + refused.stderr + rotated.stdout + rotated.stderr,
      (await docker(['service', 'inspect', name])).stdout,
      JSON.stringify(await listSecrets(client)),
    ];
    for (const text of texts)
      for (const tok of s.gh.issued)
        assert.ok(!text.includes(tok.split('.')[2] as string), 'no token anywhere');
  },
);
