// Real AWS clients get credentials from `keyless serve` (a real process) and then make a
// SigV4-checked call to moto: awscli v1, boto3, awscli v2 and the JS SDK v3, each through the full URI
// + token file and through the IMDSv2 endpoint.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Moto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';
import { runKeyless, runProcess, KEYLESS_BIN } from '../helpers/cli.js';
import { freePort, waitForPort } from '../helpers/net.js';

const JS_CLIENT = `import { STSClient, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
const r = await new STSClient({}).send(new GetCallerIdentityCommand({}));
console.log(r.Arn);`;

interface Served {
  moto: Moto;
  env: Record<string, string>;
  port: number;
  tokenFile: string;
  printed: string;
}

async function serve(t: TestContext, imds = true): Promise<Served> {
  const { moto, te } = await motoWithStoredProfile(t, {
    moto: { roles: ['served'] },
    awsConfig: '[profile app]\nrole_arn = ROLE:served\nsource_profile = dev\n',
  });
  const port = await freePort();
  const tokenFile = join(te.home, 'token');
  const child = spawn(
    process.execPath,
    [
      KEYLESS_BIN,
      'serve',
      '--profile',
      'app',
      '--listen',
      `127.0.0.1:${port}`,
      '--token-file',
      tokenFile,
      ...(imds ? ['--imds'] : []),
    ],
    {
      env: te.vars,
    },
  );
  let printed = '';
  let errors = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (printed += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (errors += d));
  t.after(() => {
    child.kill('SIGTERM');
  });
  await waitForPort('127.0.0.1', port).catch((e: Error) => {
    throw new Error(`${e.message}\n${errors}`);
  });
  for (let i = 0; i < 50 && !printed.includes(imds ? 'METADATA' : 'AUTHORIZATION_TOKEN='); i++)
    await new Promise((r) => setTimeout(r, 100));
  const client = { ...te.vars };
  delete client.AWS_CONFIG_FILE;
  client.AWS_CONFIG_FILE = join(te.home, 'empty-config');
  client.AWS_SHARED_CREDENTIALS_FILE = join(te.home, 'empty-credentials');
  await writeFile(client.AWS_CONFIG_FILE, '');
  await writeFile(client.AWS_SHARED_CREDENTIALS_FILE, '');
  return { moto, env: client, port, tokenFile, printed };
}

const clients: [string, (s: Served) => [string, string[]]][] = [
  ['awscli v1', () => ['aws', ['sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text']]],
  [
    'awscli v2',
    (s) => [
      '/usr/bin/aws',
      ['--endpoint-url', s.moto.url, 'sts', 'get-caller-identity', '--query', 'Arn', '--output', 'text'],
    ],
  ],
  [
    'boto3',
    () => ['python3', ['-c', "import boto3;print(boto3.client('sts').get_caller_identity()['Arn'])"]],
  ],
  ['JS SDK v3', () => [process.execPath, ['--input-type=module', '-e', JS_CLIENT]]],
];

describe('real clients through keyless serve (moto, signature checks on)', () => {
  test('prints the full URI, both token variants and the IMDS endpoint; the token file is 0600', async (t) => {
    const s = await serve(t);
    const token = (await readFile(s.tokenFile, 'utf8')).trim();
    assert.equal(
      s.printed.trim(),
      [
        `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:${s.port}/v1/credentials`,
        `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${s.tokenFile}`,
        `AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}`,
        `AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:${s.port}/`,
      ].join('\n'),
    );
    assert.equal((await stat(s.tokenFile)).mode & 0o777, 0o600);
  });

  test('without --imds there is no IMDS endpoint (issue 21.3)', async (t) => {
    const s = await serve(t, false);
    assert.doesNotMatch(s.printed, /METADATA/);
    const r = await fetch(`http://127.0.0.1:${s.port}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' },
    });
    assert.equal(r.status, 404);
  });

  for (const [name, cmd] of clients) {
    test(`${name} with exactly the printed ECS lines, then through IMDSv2`, async (t) => {
      const s = await serve(t);
      const [bin, args] = cmd(s);
      const cwd = fileURLToPath(new URL('../../..', import.meta.url));
      // the printed lines as they are, for every client (both token variants)
      const printedEnv = Object.fromEntries(
        s.printed
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('AWS_CONTAINER_'))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      const ecs = await runProcess(bin, args, { cwd, env: { ...s.env, ...printedEnv } });
      assert.equal(ecs.code, 0, ecs.stderr);
      assert.match(ecs.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/served\//);
      const imdsEnv: Record<string, string> = {
        ...s.env,
        AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${s.port}/`,
      };
      delete imdsEnv.AWS_EC2_METADATA_DISABLED; // this client must read (our own) metadata endpoint
      const imds = await runProcess(bin, args, { cwd, env: imdsEnv });
      assert.equal(imds.code, 0, imds.stderr);
      assert.match(imds.stdout.trim(), /^arn:aws:sts::123456789012:assumed-role\/served\//);
    });
  }

  test('a taken address is a readable error', async (t) => {
    const s = await serve(t);
    // another KEYLESS_HOME (one server per home is its own rule)
    const r = await runKeyless(['serve', '--profile', 'app', '--listen', `127.0.0.1:${s.port}`], {
      env: { ...s.env, KEYLESS_HOME: join(s.env.HOME ?? '', 'other-home') },
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /already in use/);
  });
});
