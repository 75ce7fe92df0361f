// A moto_server with the seeded user's key stored in a fresh keyless vault as profile `dev`
// (region us-east-1), and ~/.aws/config text added after it (ROLE:<name> expands to a role ARN).
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startMoto, type Moto, type StartMotoOptions } from './moto.js';
import { makeTestEnv, type TestEnv, type TestEnvOptions } from './env.js';
import { runKeyless } from './cli.js';

export async function motoWithStoredProfile(
  t: Pick<TestContext, 'after'>,
  options: { moto?: StartMotoOptions; awsConfig?: string; env?: TestEnvOptions } = {},
): Promise<{ moto: Moto; te: TestEnv }> {
  const moto = await startMoto(t, options.moto);
  const config = `[profile dev]\nregion = us-east-1\n\n${(options.awsConfig ?? '').replace(/ROLE:([\w-]+)/g, (_m, name: string) => moto.identity.roles[name] ?? `missing-role-${name}`)}`;
  const te = await makeTestEnv(t, { ...options.env, endpoint: moto.url, awsConfig: config });
  const add = await runKeyless(['add', 'dev', '--env'], {
    env: {
      ...te.vars,
      AWS_ACCESS_KEY_ID: moto.identity.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.identity.secretAccessKey,
    },
  });
  assert.equal(add.code, 0, add.stderr);
  return { moto, te };
}
