import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadEnv } from '../config/env.js';
import { isKeylessError } from '../errors.js';
import { tempDir } from '../../test/helpers/tmp.js';
import { configureCredHelpers } from './configure.js';

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

test("the docker folder is the user's: a link to it is followed and its mode is left alone", async (t) => {
  const home = await tempDir(t);
  const real = join(home, 'dotfiles-docker');
  await mkdir(real, { mode: 0o755 });
  await symlink(real, join(home, '.docker'));
  const env = loadEnv({ HOME: home });
  const r = await configureCredHelpers(env, [REGISTRY], false);
  assert.deepEqual(r.changed, [REGISTRY]);
  const written = JSON.parse(await readFile(join(real, 'config.json'), 'utf8')) as { credHelpers: object };
  assert.deepEqual(written.credHelpers, { [REGISTRY]: 'keyless' });
  assert.equal((await stat(real)).mode & 0o777, 0o755);
});

test('a docker config that is not a JSON object, or a DOCKER_CONFIG that is a file, is an input error', async (t) => {
  const home = await tempDir(t);
  await mkdir(join(home, '.docker'));
  const env = loadEnv({ HOME: home });
  for (const text of ['null', '[]', '"x"']) {
    await writeFile(join(home, '.docker', 'config.json'), text);
    await assert.rejects(
      configureCredHelpers(env, [REGISTRY], false),
      (err: unknown) =>
        isKeylessError(err) && err.code === 'ECR_DOCKER_CONFIG_INVALID' && /JSON object/.test(err.message),
    );
  }
  const file = join(home, 'a-file');
  await writeFile(file, '');
  await assert.rejects(
    configureCredHelpers(loadEnv({ HOME: home, DOCKER_CONFIG: file }), [REGISTRY], false),
    (err: unknown) =>
      isKeylessError(err) && err.code === 'FILE_UNREADABLE' && /DOCKER_CONFIG/.test(err.message),
  );
});
