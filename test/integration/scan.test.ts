// keyless scan as a real process: files, compose, directories, docker-save archives and images by
// reference with a real engine (a secret deleted in a later layer is still reported), containers,
// reports (JSON, SARIF), exit codes, baseline, and --verify against moto.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless, runProcess } from '../helpers/cli.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { requireDocker, ensureBusyboxImage, docker, DEBIAN_DOCKER } from '../helpers/docker.js';
import { startMoto } from '../helpers/moto.js';
import { motoWithStoredProfile } from '../helpers/profiles.js';

interface Report {
  findings: {
    rule: string;
    severity: string;
    location: { path: string; line?: number; layer?: { index: number } };
    deleted?: string;
    verified?: string;
    excerpt: string;
  }[];
}

describe('keyless scan', () => {
  test('a directory: Dockerfile, compose (environment, env_file, volumes), .dockerignore honoured, JSON report, exit 1', async (t) => {
    const dir = await tempDir(t);
    const id = fakeAccessKeyId();
    const secret = fakeSecretAccessKey();
    await writeTree(dir, {
      Dockerfile: `FROM x\nENV AWS_ACCESS_KEY_ID=${id} AWS_SECRET_ACCESS_KEY=${secret}\n`,
      'docker-compose.yml': `services:\n  app:\n    image: x\n    environment:\n      AWS_SECRET_ACCESS_KEY: ${secret}\n    env_file: [app.env]\n    volumes:\n      - ~/.aws:/root/.aws:ro\n`,
      'app.env': `AWS_ACCESS_KEY_ID=${id}\n`,
      'ignored/secret.txt': `aws_secret_access_key = ${secret}\n`,
      '.dockerignore': 'ignored\n',
      'src/ok.js': 'console.log("nothing here")\n',
    });
    const te = await makeTestEnv(t);
    const r = await runKeyless(['scan', dir, '--format', 'json'], { env: te.vars });
    assert.equal(r.code, 1, r.stderr);
    assert.ok(!r.stdout.includes(secret), 'the secret never appears in the report');
    const rep = JSON.parse(r.stdout) as Report;
    const got = rep.findings.map((f) => `${f.rule}@${f.location.path.replace(dir, '')}:${f.location.line}`);
    assert.ok(got.includes('SCAN_AWS_SECRET_ACCESS_KEY@/Dockerfile:2'), got.join('\n'));
    assert.ok(
      got.some((g) => /^SCAN_(COMPOSE_SECRET_ENV|AWS_SECRET_ACCESS_KEY)@\/docker-compose.yml:5$/.test(g)),
      got.join('\n'),
    );
    assert.ok(got.includes('SCAN_COMPOSE_SECRET_ENV@/app.env:1'), got.join('\n'));
    assert.ok(got.includes('SCAN_AWS_CREDENTIALS_MOUNT@/docker-compose.yml:8'), got.join('\n'));
    assert.ok(!got.some((g) => g.includes('/ignored/')), '.dockerignore honoured');
  });

  test('a compose default ${VAR:-secret} in an env_file, the directory given relative: one finding per place', async (t) => {
    const dir = await tempDir(t);
    const secret = fakeSecretAccessKey();
    await writeTree(dir, {
      'proj/docker-compose.yml': 'services:\n  app:\n    image: x\n    env_file: ./app.env\n',
      'proj/app.env': `AWS_SECRET_ACCESS_KEY=\${AWS_SECRET_ACCESS_KEY:-${secret}}\nAWS_ACCESS_KEY_ID=\${AWS_ACCESS_KEY_ID}\n`,
    });
    const te = await makeTestEnv(t);
    const r = await runKeyless(['scan', 'proj', '--format', 'json'], { env: te.vars, cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const got = (JSON.parse(r.stdout) as Report).findings.map(
      (f) => `${f.rule}@${f.location.path}:${f.location.line}`,
    );
    // the env_file reached from the compose file and from the directory walk is one path
    assert.deepEqual(got.sort(), [
      'SCAN_AWS_SECRET_ACCESS_KEY@proj/app.env:1',
      'SCAN_COMPOSE_SECRET_ENV@proj/app.env:1',
    ]);
  });

  test('SARIF has rules, one physical location per result and fingerprints; baseline accepts known findings', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'config.env'), `AWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}\n`);
    const te = await makeTestEnv(t);
    const sarifPath = join(dir, 'out.sarif');
    const r = await runKeyless(
      ['scan', join(dir, 'config.env'), '--format', 'sarif', '--output', sarifPath],
      { env: te.vars },
    );
    assert.equal(r.code, 1);
    const sarif = JSON.parse(await readFile(sarifPath, 'utf8'));
    assert.equal(sarif.version, '2.1.0');
    const run = sarif.runs[0];
    assert.ok(
      run.tool.driver.rules.every(
        (x: { id: string; help: { text: string }; properties: { 'security-severity': string } }) =>
          x.id && x.help.text && x.properties['security-severity'],
      ),
    );
    for (const res of run.results) {
      assert.equal(res.locations.length, 1);
      assert.ok(res.locations[0].physicalLocation.artifactLocation.uri);
      assert.ok(res.partialFingerprints.primaryLocationLineHash);
    }
    const base = join(dir, 'baseline.json');
    await runKeyless(['scan', join(dir, 'config.env'), '--write-baseline', base, '--fail-on', 'never'], {
      env: te.vars,
    });
    const again = await runKeyless(['scan', join(dir, 'config.env'), '--baseline', base], { env: te.vars });
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /no findings/);
  });

  test(
    'images: every layer, a secret deleted in a later layer, the history (build args), docker-save archives, OCI layout folders and images by reference',
    { timeout: 300_000 },
    async (t) => {
      if (!(await requireDocker(t))) return;
      const bb = await ensureBusyboxImage();
      const dir = await tempDir(t);
      const id = fakeAccessKeyId();
      const secret = fakeSecretAccessKey();
      await writeTree(dir, {
        creds: `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`,
        Dockerfile: `FROM ${bb}\nARG TOKEN_ARG\nCOPY creds /root/.aws/credentials\nRUN rm /root/.aws/credentials\nRUN echo "$TOKEN_ARG" > /dev/null\n`,
      });
      const tag = `local/keyless-scan-test:${Date.now()}`;
      await docker(['build', '--build-arg', `TOKEN_ARG=AWS_SECRET_ACCESS_KEY=${secret}`, '-t', tag, dir], {
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      });
      t.after(async () => void (await docker(['rmi', '-f', tag]).catch(() => undefined)));
      const te = await makeTestEnv(t);
      const byRef = await runKeyless(['scan', tag, '--format', 'json'], { env: te.vars, timeoutMs: 120_000 });
      assert.equal(byRef.code, 1, byRef.stderr);
      assert.ok(!byRef.stdout.includes(secret));
      const rep = JSON.parse(byRef.stdout) as Report;
      const layered = rep.findings.find(
        (f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY' && f.location.path.endsWith('/root/.aws/credentials'),
      );
      assert.ok(layered, byRef.stdout);
      // layer 1 is the imported busybox, COPY made layer 2, RUN rm layer 3; the last RUN changed no
      // file, so it made no layer. Every RUN after the ARG records the build arg in its history entry.
      assert.equal(layered.location.layer?.index, 2);
      assert.equal(layered.deleted, 'deleted in layer 3, still extractable from layer 2');
      const fromHistory = rep.findings.filter(
        (f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY' && f.location.path.includes('/history/'),
      );
      assert.deepEqual(
        fromHistory.map((f) => f.location.layer?.index ?? 'no layer'),
        [3, 'no layer'],
        'the build arg shows in the history, linked to the layer its RUN made',
      );
      const tar = join(dir, 'image.tar');
      await docker(['save', '-o', tar, tag]);
      const fromTar = await runKeyless(['scan', tar, '--format', 'json'], {
        env: te.vars,
        timeoutMs: 120_000,
      });
      assert.equal(fromTar.code, 1);
      assert.ok((JSON.parse(fromTar.stdout) as Report).findings.some((f) => f.deleted));
      // an OCI image-layout folder (skopeo from the local engine: gzip layers, index.json, blobs/)
      const oci = join(dir, 'oci');
      await runProcess('skopeo', ['copy', '--quiet', `docker-daemon:${tag}`, `oci:${oci}:latest`], {
        env: { ...process.env } as Record<string, string>,
        timeoutMs: 120_000,
      }).then((c) => assert.equal(c.code, 0, c.stderr));
      const fromOci = await runKeyless(['scan', oci, '--format', 'json'], {
        env: te.vars,
        timeoutMs: 120_000,
      });
      assert.equal(fromOci.code, 1, fromOci.stderr);
      const ociRep = JSON.parse(fromOci.stdout) as Report;
      assert.ok(
        ociRep.findings.some((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY' && f.deleted),
        fromOci.stdout,
      );
      assert.ok(!fromOci.stdout.includes(secret));
    },
  );

  test(
    'images built by a real engine: ENV keys are reported in the config and history; a BuildKit secret mount leaves the image clean',
    { timeout: 300_000 },
    async (t) => {
      if (!(await requireDocker(t))) return;
      const bb = await ensureBusyboxImage();
      const dir = await tempDir(t);
      const id = fakeAccessKeyId();
      const secret = fakeSecretAccessKey();
      await writeTree(dir, {
        'env/Dockerfile': `FROM ${bb}\nENV AWS_ACCESS_KEY_ID=${id} AWS_SECRET_ACCESS_KEY=${secret}\nRUN true\n`,
        'mount/Dockerfile': `FROM ${bb}\nRUN --mount=type=secret,id=aws,target=/root/.aws/credentials cat /root/.aws/credentials > /dev/null\n`,
        'creds.ini': `[default]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`,
      });
      const nonce = Date.now();
      const envTag = `local/keyless-scan-env:${nonce}`;
      const mountTag = `local/keyless-scan-mount:${nonce}`;
      t.after(async () => void (await docker(['rmi', '-f', envTag, mountTag]).catch(() => undefined)));
      await docker(['build', '-t', envTag, join(dir, 'env')], {
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
      });
      // BuildKit (Debian's CLI), no syntax line: the engine's built-in frontend, nothing pulled
      await docker(
        [
          'build',
          '--secret',
          `id=aws,src=${join(dir, 'creds.ini')}`,
          '--build-arg',
          `NONCE=${nonce}`,
          '-t',
          mountTag,
          join(dir, 'mount'),
        ],
        { cli: DEBIAN_DOCKER, env: { ...process.env, DOCKER_BUILDKIT: '1' } },
      );
      const te = await makeTestEnv(t);
      const env = await runKeyless(['scan', envTag, '--format', 'json'], {
        env: te.vars,
        timeoutMs: 120_000,
      });
      assert.equal(env.code, 1, env.stderr);
      assert.ok(!env.stdout.includes(secret));
      const places = (JSON.parse(env.stdout) as Report).findings
        .filter((f) => f.rule === 'SCAN_AWS_SECRET_ACCESS_KEY')
        .map((f) => f.location.path.replace(`image/${envTag}/`, ''));
      assert.ok(places.includes('config/Env'), places.join());
      assert.ok(
        places.some((p) => p.startsWith('history/')),
        places.join(),
      );
      const mount = await runKeyless(['scan', mountTag, '--format', 'json', '--fail-on', 'info'], {
        env: te.vars,
        timeoutMs: 120_000,
      });
      assert.equal(mount.code, 0, mount.stdout);
      assert.deepEqual((JSON.parse(mount.stdout) as Report).findings, []);
    },
  );

  test('containers: AWS secrets in env and .aws mounts', { timeout: 120_000 }, async (t) => {
    if (!(await requireDocker(t))) return;
    const bb = await ensureBusyboxImage();
    const dir = await tempDir(t);
    const name = `keyless-scan-${Date.now()}`;
    await docker([
      'run',
      '-d',
      '--name',
      name,
      '--pull',
      'never',
      '-e',
      `AWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}`,
      '-v',
      `${dir}:/root/.aws:ro`,
      bb,
      'sleep',
      '60',
    ]);
    t.after(async () => void (await docker(['rm', '-f', name]).catch(() => undefined)));
    const te = await makeTestEnv(t);
    const r = await runKeyless(['scan', name, '--format', 'json'], { env: te.vars });
    assert.equal(r.code, 1);
    const rules = (JSON.parse(r.stdout) as Report).findings.map((f) => f.rule);
    assert.ok(
      rules.includes('SCAN_AWS_SECRET_ACCESS_KEY') && rules.includes('SCAN_AWS_CREDENTIALS_MOUNT'),
      rules.join(),
    );
  });

  test('--verify checks key pairs with sts:GetCallerIdentity at AWS_ENDPOINT_URL: live or invalid', async (t) => {
    const moto = await startMoto(t, { roles: [] });
    const dir = await tempDir(t);
    await writeFile(
      join(dir, 'live.ini'),
      `aws_access_key_id = ${moto.identity.accessKeyId}\naws_secret_access_key = ${moto.identity.secretAccessKey}\n`,
    );
    await writeFile(
      join(dir, 'dead.ini'),
      `aws_access_key_id = ${fakeAccessKeyId()}\naws_secret_access_key = ${fakeSecretAccessKey()}\n`,
    );
    const te = await makeTestEnv(t, { endpoint: moto.url });
    const r = await runKeyless(
      ['scan', join(dir, 'live.ini'), join(dir, 'dead.ini'), '--verify-signin', '--format', 'json'],
      { env: te.vars },
    );
    const rep = JSON.parse(r.stdout) as Report;
    const v = rep.findings
      .filter((f) => f.verified)
      .map((f) => `${f.location.path.split('/').pop()}:${f.verified}`)
      .sort();
    assert.deepEqual(v, ['dead.ini:invalid', 'live.ini:live']);
    assert.equal(moto.countRequests('GetCallerIdentity'), 2);
  });
});

describe('keyless scan --verify (whose key it is, never using it)', () => {
  test('asks GetAccessKeyInfo signed with the user key only; the found key signs nothing; yours or not', async (t) => {
    // a role profile: moto's GetSessionToken key is one its own signature check refuses (testing.md),
    // so the user's credentials here are an AssumeRole session from the stored key
    const { moto, te } = await motoWithStoredProfile(t, {
      moto: { roles: ['reader'] },
      awsConfig: '[profile app]\nrole_arn = ROLE:reader\nsource_profile = dev\n',
    });
    const dir = await tempDir(t);
    const foundId = fakeAccessKeyId();
    const foundSecret = fakeSecretAccessKey();
    await writeFile(
      join(dir, 'leak.ini'),
      `aws_access_key_id = ${foundId}\naws_secret_access_key = ${foundSecret}\n`,
    );
    moto.resetCounts();
    const before = moto.requests().length;
    const r = await runKeyless(
      ['scan', join(dir, 'leak.ini'), '--verify', '--verify-profile', 'app', '--format', 'json'],
      {
        env: te.vars,
      },
    );
    assert.equal(r.code, 1, r.stderr);
    const rep = JSON.parse(r.stdout) as {
      findings: { rule: string; account?: string; owner?: string; verified?: string }[];
    };
    const f = rep.findings.filter(
      (x) => x.rule === 'SCAN_AWS_ACCESS_KEY_ID' || x.rule === 'SCAN_AWS_SECRET_ACCESS_KEY',
    );
    assert.equal(f.length, 2);
    // moto answers GetAccessKeyInfo with its one account, the user's own: "yours"
    for (const x of f) {
      assert.equal(x.account, '123456789012');
      assert.equal(x.owner, 'yours');
      assert.equal(x.verified, undefined, '--verify does not test the key itself');
    }
    const reqs = moto.requests().slice(before);
    assert.ok(
      reqs.some((q) => q.action === 'GetAccessKeyInfo' && q.body.includes(foundId)),
      'the found key id was asked about',
    );
    const sessionSigners = new Set(reqs.filter((q) => q.action !== 'AssumeRole').map((q) => q.signer));
    for (const q of reqs) {
      assert.notEqual(q.signer, foundId, `${q.action} is never signed by the found key`);
      assert.ok(!q.body.includes(foundSecret), 'the found secret is sent nowhere');
      if (q.action === 'AssumeRole')
        assert.equal(q.signer, moto.identity.accessKeyId, "the user's stored key");
    }
    assert.equal(
      sessionSigners.size,
      1,
      "GetCallerIdentity and GetAccessKeyInfo signed by the user's one role session",
    );
    assert.match([...sessionSigners][0] ?? '', /^ASIA/);
    assert.equal(moto.countRequests('GetCallerIdentity'), 1, "only the user's own identity");
  });
});
