// Body of `keyless serve`: foreground server, --daemon, --stop, --status.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { KeylessError, usageError } from '../../../errors.js';
import { fileAuditLog } from '../../../leases/audit-log.js';
import { LeaseTable, type RoleKey } from '../../../leases/lease-table.js';
import { startServer, parseListen } from '../../../server/index.js';
import { startControlSocket, controlClient } from '../../../server/control-socket.js';
import { ECS_FULL_PATH } from '../../../server/handler.js';
import { createCredentialSource, type DisposableSource } from '../../../sources/index.js';
import { ensurePrivateDir, writeFileAtomic } from '../../../util/atomic-file.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { ServeFlags } from '../serve.js';

export const DEFAULT_LISTEN = '127.0.0.1:9911';
/** sessions handed to clients keep at least 30 minutes; ask the source for a bit more */
const MIN_VALIDITY_MS = 35 * 60_000;

export async function runServe(flags: ServeFlags): Promise<ExitCode> {
  const env = loadEnv();
  const paths = keylessPaths(env.keylessHome);
  if (flags.stop) return stopDaemon(paths.serverPidFile);
  if (flags.status) {
    const s = await controlClient(paths.controlSocket).status();
    output.data(`pid ${s.pid}, listening on ${s.listen.join(', ')}, ${s.clients} client(s)`);
    return 0;
  }
  const hopLimit = Number(flags.hopLimit);
  if (!Number.isInteger(hopLimit) || hopLimit < 1 || hopLimit > 64)
    throw usageError(`--hop-limit must be 1 to 64, got "${flags.hopLimit}".`);
  const listen = (flags.listen ?? [DEFAULT_LISTEN]).map(parseListen);
  if (flags.daemon) return startDaemon(paths.serverDir, paths.serverLogFile, paths.serverPidFile);

  const defaultKey: RoleKey = {
    ...(flags.profile ? { profile: flags.profile } : {}),
    ...(flags.roleArn ? { roleArn: flags.roleArn } : {}),
  };
  const sources: DisposableSource[] = [];
  const table = new LeaseTable(
    (key) => {
      let source: Promise<DisposableSource> | undefined;
      return async () => {
        source ??= createCredentialSource(
          {
            ...((key.profile ?? flags.profile) ? { profile: key.profile ?? flags.profile } : {}),
            ...(key.roleArn ? { roleArn: key.roleArn } : {}),
          },
          {
            env,
            minValidityMs: MIN_VALIDITY_MS,
            ...(env.debug ? { log: (l: string) => output.info(`debug: ${l}`) } : {}),
          },
        ).then((s) => {
          sources.push(s);
          return s;
        });
        return (await source)();
      };
    },
    { log: (l) => output.info(l) },
  );
  const token = randomBytes(32).toString('base64url');
  const roleName =
    (flags.roleArn ?? '').split('/').pop() || `keyless-${flags.profile ?? env.awsProfile ?? 'default'}`;
  let stopWatching: (() => void) | undefined;
  let resolveClient: Parameters<typeof startServer>[1]['resolveClient'];
  if (flags.docker) {
    const { dockerClientFromEnv } = await import('../../../docker/engine/index.js');
    const { containerClientResolver, watchContainerExits } =
      await import('../../../docker/container-clients.js');
    const docker = dockerClientFromEnv(env);
    resolveClient = containerClientResolver(docker, table, flags.docker);
    stopWatching = await watchContainerExits(docker, table, (l) => output.info(l));
  }
  const server = await startServer(listen, {
    table,
    ...(resolveClient ? { resolveClient } : {}),
    fullUri: { token, key: defaultKey },
    imds: {
      key: defaultKey,
      roleName,
      region: flags.region ?? env.awsRegion ?? 'us-east-1',
      allowV1: flags.allowImdsv1 ?? false,
      hopLimit,
    },
    audit: fileAuditLog(paths.auditLog),
  });
  const control = await startControlSocket(paths.controlSocket, table, () => ({
    pid: process.pid,
    listen: server.addresses.map((a) => `${a.host}:${a.port}`),
  }));
  if (flags.tokenFile) await writeFileAtomic(resolve(flags.tokenFile), token, { mode: 0o600 });
  const first = server.addresses[0] as { host: string; port: number };
  const base = `http://${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}`;
  if (flags.imds) {
    output.data(`AWS_EC2_METADATA_SERVICE_ENDPOINT=${base}/`);
  } else {
    // Only one of the two ECS variants: SDKs disagree on which wins when both are set.
    output.data(`AWS_CONTAINER_CREDENTIALS_FULL_URI=${base}${ECS_FULL_PATH}`);
    output.data(
      flags.tokenFile
        ? `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${resolve(flags.tokenFile)}`
        : `AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}`,
    );
  }
  output.info(
    `keyless serve: listening on ${server.addresses.map((a) => `${a.host}:${a.port}`).join(', ')} (Ctrl-C to stop)`,
  );
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
  });
  stopWatching?.();
  await server.close();
  control.close();
  await rm(paths.controlSocket, { force: true });
  // clean shutdown: revoke HashiCorp Vault leases
  for (const s of sources) await s.dispose().catch((err: Error) => output.warn(err.message));
  return 0;
}

async function startDaemon(dir: string, logFile: string, pidFile: string): Promise<ExitCode> {
  await ensurePrivateDir(dir);
  const args = process.argv.slice(1).filter((a) => a !== '--daemon');
  const log = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  child.unref();
  await writeFileAtomic(pidFile, `${child.pid}\n`);
  output.info(
    `keyless serve started in the background (pid ${child.pid}, log ${logFile}); stop it with keyless serve --stop`,
  );
  return 0;
}

async function stopDaemon(pidFile: string): Promise<ExitCode> {
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).trim());
  } catch {
    throw new KeylessError(
      'SERVER_NOT_RUNNING',
      'no background keyless server (no pid file). Nothing to stop.',
    );
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    output.info(`the background server (pid ${pid}) was not running`);
  }
  await rm(pidFile, { force: true });
  output.info(`stopped keyless serve (pid ${pid})`);
  return 0;
}
