// Reports of real scans against their schemas: every ng.* fixture (files: Dockerfiles, compose, env and
// credentials files), a docker-save tarball and an OCI layout (layer findings, a deleted credentials
// file, config Env, a build arg in history), a container (env, label, .aws mount; the Engine's answer
// stood in) and --verify against moto (live and invalid). The JSON report must validate against
// docs/schemas/scan-report.v1.schema.json and SARIF against the SARIF 2.1.0 schema, both rendered
// in-process and printed by the real CLI.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { expandFixture } from '../helpers/scan-fixtures.js';
import { makeTestEnv } from '../helpers/env.js';
import { runKeyless } from '../helpers/cli.js';
import { startMoto } from '../helpers/moto.js';
import { fakeAccessKeyId, fakeSecretAccessKey } from '../helpers/keys.js';
import { dockerSaveTarOf, writeOciLayout, type CraftedImage } from '../helpers/oci.js';
import { validateSarif, validateScanReport, type Validation } from '../helpers/report-schemas.js';
import type { DockerClient } from '../../src/docker/engine/client.js';
import { scanContainer, scanDirectory, scanFile, scanOciLayout } from '../../src/scan/targets.js';
import { dedupeFindings, sortFindings } from '../../src/scan/findings.js';
import { renderJson, renderSarif } from '../../src/scan/reports.js';
import type { Finding } from '../../src/scan/types.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/scan/', import.meta.url));

interface JsonReport {
  findings: {
    rule: string;
    location: Record<string, unknown>;
    keyId?: string;
    deleted?: string;
    verified?: string;
  }[];
}

function assertValid(v: Validation, what: string): void {
  assert.ok(v.valid, `${what} is invalid:\n${v.errors.join('\n')}`);
}

function image(secrets: { id: string; secret: string; buildArg: string }): CraftedImage {
  return {
    ref: 'local/schemas:1',
    layers: [
      {
        compression: 'gzip',
        files: {
          'root/.aws/credentials': `[default]\naws_access_key_id = ${secrets.id}\naws_secret_access_key = ${secrets.secret}\n`,
        },
      },
      { compression: 'none', files: { 'root/.aws/.wh..wh..opq': '', 'app/readme.txt': 'nothing\n' } },
    ],
    env: ['PATH=/bin', `AWS_ACCESS_KEY_ID=${secrets.id}`, `AWS_SECRET_ACCESS_KEY=${secrets.secret}`],
    history: [
      { created_by: 'COPY creds /root/.aws/credentials' },
      { created_by: `RUN |1 AWS_SECRET_ACCESS_KEY=${secrets.buildArg} /bin/sh -c rm -rf /root/.aws` },
    ],
  };
}

/** Expands every ng.* fixture into dir/<case>/ and writes an image tar and an OCI layout beside it. */
async function corpus(dir: string): Promise<{ files: string; tar: string; layout: string }> {
  const files = join(dir, 'files');
  for (const name of readdirSync(FIXTURES).filter((d) => d.startsWith('ng.')))
    await expandFixture(join(FIXTURES, name, 'input'), join(files, name));
  const secrets = { id: fakeAccessKeyId(), secret: fakeSecretAccessKey(), buildArg: fakeSecretAccessKey() };
  const tar = join(dir, 'image.tar');
  await writeFile(tar, await dockerSaveTarOf(image(secrets)));
  const layout = join(dir, 'layout');
  await writeOciLayout(layout, image(secrets));
  return { files, tar, layout };
}

/** The Engine's GET /containers/{id}/json for a container with a key in its env and labels and ~/.aws mounted. */
function engineStandIn(): DockerClient {
  const info = {
    Name: '/web',
    Config: {
      Env: [
        'PATH=/bin',
        `AWS_ACCESS_KEY_ID=${fakeAccessKeyId()}`,
        `AWS_SECRET_ACCESS_KEY=${fakeSecretAccessKey()}`,
      ],
      Labels: { 'com.example.aws_secret_access_key': fakeSecretAccessKey() },
    },
    Mounts: [{ Source: '/home/dev/.aws', Destination: '/root/.aws' }],
  };
  return { json: async () => info } as unknown as DockerClient;
}

function assertCoverage(doc: JsonReport, fields: string[]): void {
  for (const k of fields) {
    const has = doc.findings.some((f) =>
      k.startsWith('location.')
        ? f.location[k.slice('location.'.length)] !== undefined
        : (f as Record<string, unknown>)[k] !== undefined,
    );
    assert.ok(has, `some finding has ${k}`);
  }
}

describe('reports of real scans against their schemas', () => {
  test('files, a docker-save tarball, an OCI layout and a container, rendered in-process', async (t) => {
    const dir = await tempDir(t);
    const { files, tar, layout } = await corpus(dir);
    const findings: Finding[] = sortFindings(
      dedupeFindings([
        ...(await scanDirectory(files)),
        ...(await scanFile(tar)),
        ...(await scanOciLayout(layout)),
        ...(await scanContainer(engineStandIn(), 'web')),
      ]),
    );
    for (const f of findings) delete f.secretPair;
    const json = JSON.parse(renderJson(findings, '1.2.3')) as JsonReport;
    assert.ok(json.findings.length > 30, `${json.findings.length} findings`);
    assertCoverage(json, [
      'keyId',
      'deleted',
      'location.line',
      'location.column',
      'location.image',
      'location.layer',
      'location.container',
    ]);
    const rules = new Set(json.findings.map((f) => f.rule));
    for (const r of [
      'SCAN_AWS_CREDENTIALS_MOUNT',
      'SCAN_DOCKERFILE_COPY_CREDENTIALS',
      'SCAN_COMPOSE_SECRET_ENV',
    ])
      assert.ok(rules.has(r), `${r} among ${[...rules].join()}`);
    assertValid(validateScanReport(json), 'the JSON report');
    // relative URIs (under the working directory), file:// URIs (outside it), image and container places
    for (const cwd of [files, '/elsewhere'])
      assertValid(
        validateSarif(JSON.parse(renderSarif(findings, { version: '1.2.3', cwd }))),
        `SARIF, cwd ${cwd}`,
      );
  });

  test('the CLI prints schema-valid JSON and SARIF for the same targets, with --verify results (moto)', async (t) => {
    const dir = await tempDir(t);
    const { files, tar, layout } = await corpus(dir);
    const moto = await startMoto(t, { roles: [] });
    await writeFile(
      join(dir, 'live.ini'),
      `aws_access_key_id = ${moto.identity.accessKeyId}\naws_secret_access_key = ${moto.identity.secretAccessKey}\n`,
    );
    const te = await makeTestEnv(t, { endpoint: moto.url });
    const targets = [files, tar, layout, join(dir, 'live.ini')];
    const json = await runKeyless(['scan', ...targets, '--format', 'json', '--verify-signin'], {
      env: te.vars,
      cwd: dir,
      timeoutMs: 120_000,
    });
    assert.equal(json.code, 1, json.stderr);
    const doc = JSON.parse(json.stdout) as JsonReport;
    assertCoverage(doc, [
      'keyId',
      'deleted',
      'verified',
      'location.line',
      'location.image',
      'location.layer',
    ]);
    assert.ok(doc.findings.some((f) => f.verified === 'live'));
    assert.ok(doc.findings.some((f) => f.verified === 'invalid'));
    assertValid(validateScanReport(doc), 'the CLI JSON report');
    const sarif = await runKeyless(['scan', ...targets, '--format', 'sarif'], {
      env: te.vars,
      cwd: dir,
      timeoutMs: 120_000,
    });
    assert.equal(sarif.code, 1, sarif.stderr);
    const log = JSON.parse(sarif.stdout) as { runs: { results: unknown[] }[] };
    assert.equal(log.runs[0]?.results.length, doc.findings.length);
    assertValid(validateSarif(log), 'the CLI SARIF log');
  });
});
