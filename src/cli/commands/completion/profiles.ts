// Profile names for completion: ~/.aws/config and ~/.aws/credentials, quietly empty when unreadable
// (a completion must never print an error into the user's command line).
import { readFile } from 'node:fs/promises';
import { loadEnv } from '../../../config/env.js';
import { parseProfileFiles } from '../../../sources/profile-file.js';

const read = (path: string): Promise<string> => readFile(path, 'utf8').catch(() => '');

export async function completionProfiles(): Promise<string[]> {
  const env = loadEnv();
  const [config, credentials] = await Promise.all([
    read(env.awsConfigFile),
    read(env.awsSharedCredentialsFile),
  ]);
  let files;
  try {
    files = parseProfileFiles(config, credentials);
  } catch {
    return [];
  }
  return [...new Set([...files.config.keys(), ...files.credentials.keys()])]
    .filter((name) => /^[\w.@+=,:/-]+$/.test(name))
    .sort();
}
