// Entry of docker-credential-keyless: the Docker credential helper protocol. Start-up is on the hot path
// of every pull: a `get` answered from the cache imports nothing heavy (the AWS SDK is loaded only on
// a miss). Every error is a message on stdout and exit 1; stderr stays silent; logs go to a file.
import { appendFileSync, mkdirSync } from 'node:fs';
import { loadEnv } from '../config/env.js';
import { keylessPaths } from '../config/paths.js';
import {
  readRegistrySettings,
  resolveRegistry,
  tokenIdentity,
  type ResolvedRegistry,
} from './registry-settings.js';
import { cacheKey, readCache, storeToken, usable } from './token-cache.js';

export const NOT_FOUND = 'credentials not found in native keychain';
/** Cache window for a token whose expiry was already past at receipt (usable for half of it). */
const PAST_EXPIRY_CACHE_MS = 30 * 60_000;
const VERSION_LINE = 'docker-credential-keyless (keyless) 0.1.0';

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => (s += d));
    process.stdin.on('end', () => resolve(s));
    process.stdin.on('error', () => resolve(s));
  });
}

function fail(message: string): number {
  process.stdout.write(`${message}\n`);
  return 1;
}

export async function helperMain(args: string[]): Promise<number> {
  const verb = args[0];
  if (args.length !== 1 || verb === undefined) {
    return fail('Usage: docker-credential-keyless <store|get|erase|list|version>');
  }
  if (verb === 'version' || verb === '-v' || verb === '--version') {
    process.stdout.write(`${VERSION_LINE}\n`);
    return 0;
  }
  if (verb === '-h' || verb === '--help') {
    process.stdout.write('Usage: docker-credential-keyless <store|get|erase|list|version>\n');
    return 0;
  }
  const env = loadEnv();
  const paths = keylessPaths(env.keylessHome);
  const log = (line: string): void => {
    try {
      mkdirSync(paths.ecrDir, { recursive: true, mode: 0o700 });
      appendFileSync(paths.ecrLogFile, `${new Date().toISOString()} ${line}\n`, { mode: 0o600 });
    } catch {
      // logging never breaks a pull
    }
  };
  const input = await readStdin();
  switch (verb) {
    case 'store':
    case 'erase':
      // no-ops that succeed, so `docker login` to an ECR host does not fail (ecr-login #316)
      return 0;
    case 'list':
      process.stdout.write('{}\n');
      return 0;
    case 'get':
      return get(input, env, paths, log);
    default:
      return fail(`unknown command "${verb}": use store, get, erase, list or version`);
  }
}

async function get(
  input: string,
  env: ReturnType<typeof loadEnv>,
  paths: ReturnType<typeof keylessPaths>,
  log: (l: string) => void,
): Promise<number> {
  const serverUrl = input.trim();
  if (serverUrl === '') return fail('no credentials server URL');
  // the per-registry settings (any host) first, then ECR hosts by name; anything else is not ours
  let resolved: ResolvedRegistry | undefined;
  try {
    resolved = resolveRegistry(serverUrl, await readRegistrySettings(paths.ecrRegistries));
  } catch (err) {
    log(`get: ${(err as Error).message}`);
    return fail(`keyless: ${(err as Error).message}`);
  }
  if (!resolved) return fail(NOT_FOUND);
  const registry = resolved.registry;
  const who = tokenIdentity(resolved, env);
  const identity =
    who.profile || who.roleArn
      ? [who.profile ? `profile:${who.profile}` : '', who.roleArn ? `role:${who.roleArn}` : '']
          .filter(Boolean)
          .join(' ')
      : `chain:${env.vars.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ?? env.vars.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? env.vars.AWS_ROLE_ARN ?? 'default'}`;
  const key = cacheKey({
    kind: registry.kind,
    host: registry.host,
    region: registry.region,
    // a configured host names its account in the settings: a changed setting must not hit the old token
    identity:
      resolved.configured && registry.kind === 'private'
        ? `${identity} account:${registry.account}`
        : identity,
  });
  const now = Date.now();
  try {
    const cache = await readCache(paths.ecrTokenCache, log);
    const hit = cache.tokens[key];
    if (hit && usable(hit, now)) {
      process.stdout.write(
        `${JSON.stringify({ ServerURL: serverUrl, Username: hit.username, Secret: hit.secret })}\n`,
      );
      return 0;
    }
    // stderr goes straight to the user's terminal: keep the SDK's Node-version warning off it
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { fetchEcrToken } = await import('./fetch-token.js');
    const token = await fetchEcrToken(registry, env, who, log);
    // An expiry already past at receipt is not what ECR does (an emulator, or a badly skewed clock).
    // Such a token is cached only briefly (usable for 15 minutes): long enough not to call ECR on every
    // pull, short enough that a token a registry really gave out expired is not reused for hours.
    let expiresAt = token.expiresAt;
    if (expiresAt <= now) {
      log(
        `ECR returned an expiry in the past (${new Date(expiresAt).toISOString()}; is the clock right?); caching the token for 15 minutes only`,
      );
      expiresAt = now + PAST_EXPIRY_CACHE_MS;
    }
    await storeToken(
      paths.ecrTokenCache,
      key,
      {
        username: token.username,
        secret: token.secret,
        expiresAt,
        requestedAt: now,
        registry: registry.host,
        identity,
      },
      now,
      log,
    ).catch((err: Error) => log(`cannot write the token cache: ${err.message}`));
    process.stdout.write(
      `${JSON.stringify({ ServerURL: serverUrl, Username: token.username, Secret: token.secret })}\n`,
    );
    return 0;
  } catch (err) {
    log(`get ${registry.host}: ${(err as Error).message}`);
    return fail(`keyless could not get an ECR token for ${registry.host}: ${(err as Error).message}`);
  }
}
