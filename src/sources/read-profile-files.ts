// Reads ~/.aws/config and ~/.aws/credentials (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE); a missing
// file is an empty one, as for the AWS CLI.
import { readFile } from 'node:fs/promises';
import type { KeylessEnv } from '../config/env.js';
import { KeylessError } from '../errors.js';
import { findIniProblems, parseProfileFiles, type ProfileFiles } from './profile-file.js';

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '';
    throw new KeylessError(
      'FILE_UNREADABLE',
      `cannot read ${path} (${code ?? String(err)}). Check its permissions.`,
    );
  }
}

export async function readProfileFiles(env: KeylessEnv): Promise<ProfileFiles> {
  const [config, credentials] = await Promise.all([
    readOptional(env.awsConfigFile),
    readOptional(env.awsSharedCredentialsFile),
  ]);
  for (const [path, text] of [
    [env.awsConfigFile, config],
    [env.awsSharedCredentialsFile, credentials],
  ] as const) {
    const problems = findIniProblems(text);
    if (problems.length > 0)
      throw new KeylessError(
        'CONFIG_INVALID',
        `${path} cannot be read as an AWS config file:\n` +
          problems.map((p) => `  line ${p.line}: ${p.problem}`).join('\n') +
          '\nFix these lines (the AWS CLI refuses them too).',
      );
  }
  return {
    ...parseProfileFiles(config, credentials),
    paths: { config: env.awsConfigFile, credentials: env.awsSharedCredentialsFile },
  };
}
