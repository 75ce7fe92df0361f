// Bodies of `keyless swarm secret add|rotate|remove`.
import { loadEnv, type KeylessEnv } from '../../../config/env.js';
import { usageError } from '../../../errors.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import {
  addSecret,
  removeSecrets,
  rotateSecrets,
  type SecretModeDeps,
} from '../../../docker/swarm/secret-mode.js';
import type { SecretSettings } from '../../../docker/swarm/secret-plan.js';
import { createCredentialSource } from '../../../sources/index.js';
import { formatOidcSpec, oidcSpecFromFlags } from '../../../sources/oidc/index.js';
import { swarmCredentialRequest } from '../../../docker/swarm/credential-request.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { SecretAddOptions, SecretRotateOptions } from '../swarm.js';

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw usageError(`${flag} must be a positive whole number of seconds, got "${value}".`);
  return n;
}

function deps(env: KeylessEnv): SecretModeDeps {
  return {
    client: dockerClientFromEnv(env),
    log: (line) => output.info(line),
    mint: async (settings: SecretSettings) => {
      const source = await createCredentialSource(
        swarmCredentialRequest(
          settings,
          settings.oidc ? { oidc: settings.oidc } : {},
          settings.durationSeconds,
        ),
        { env },
      );
      return source();
    },
  };
}

export async function runSecretAdd(service: string, opts: SecretAddOptions): Promise<ExitCode> {
  const oidc = oidcSpecFromFlags(opts);
  if (oidc && opts.profile) throw usageError('--oidc takes the place of --profile: give one of them.');
  if (oidc && !opts.roleArn)
    throw usageError('--oidc needs --role-arn ARN: the role the web identity token is exchanged for.');
  if (!opts.profile && !opts.roleArn)
    throw usageError('say which credentials: --profile PROFILE and/or --role-arn ARN.');
  const durationSeconds = positiveInt(opts.duration, '--duration');
  if (durationSeconds < 900)
    output.warn(`--duration ${durationSeconds} is under AWS's 900-second minimum; real STS refuses it.`);
  const mode = Number.parseInt(opts.mode, 8);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777)
    throw usageError(`--mode must be an octal file mode like 0444, got "${opts.mode}".`);
  const env = loadEnv();
  const region = opts.region ?? env.awsRegion;
  const r = await addSecret(deps(env), service, {
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.roleArn ? { roleArn: opts.roleArn } : {}),
    ...(oidc ? { oidc: formatOidcSpec(oidc) } : {}),
    ...(region ? { region } : {}),
    durationSeconds,
    mode,
  });
  output.data(
    `${r.service}: secret ${r.secret} mounted at /run/secrets/keyless-aws-credentials (expires ${r.expiration ?? 'unknown'})`,
  );
  output.info('Rotate before it expires: keyless swarm secret rotate (a loop) or --once from cron.');
  return 0;
}

export async function runSecretRotate(services: string[], opts: SecretRotateOptions): Promise<ExitCode> {
  const env = loadEnv();
  const d = deps(env);
  const refreshBeforeMs =
    opts.refreshBefore !== undefined ? positiveInt(opts.refreshBefore, '--refresh-before') * 1000 : undefined;
  const once = async (): Promise<number> => {
    const results = await rotateSecrets(d, services, {
      force: opts.now ?? false,
      ...(refreshBeforeMs !== undefined ? { refreshBeforeMs } : {}),
    });
    for (const r of results) {
      output.data(
        r.rotated
          ? `${r.service}: rotated to ${r.secret} (expires ${r.expiration ?? 'unknown'})${r.removedSecrets.length ? `; removed ${r.removedSecrets.join(', ')}` : ''}`
          : `${r.service}: ${r.secret} still valid until ${r.expiration ?? 'unknown'}`,
      );
    }
    // next wake-up: the earliest expiry minus the margin, at least 10 s from now
    const next = results
      .map((r) => (r.expiration ? new Date(r.expiration).getTime() : Date.now()))
      .reduce((a, b) => Math.min(a, b), Date.now() + 3600_000);
    return next;
  };
  if (opts.once || opts.now) {
    await once();
    return 0;
  }
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  while (!stop) {
    const nextExpiry = await once();
    const margin = refreshBeforeMs ?? 15 * 60_000;
    const wait = Math.max(10_000, nextExpiry - margin - Date.now());
    output.info(`next check in ${Math.round(wait / 1000)} s`);
    const until = Date.now() + wait;
    while (!stop && Date.now() < until)
      await new Promise((r) => setTimeout(r, Math.min(1000, until - Date.now())));
  }
  return 0;
}

export async function runSecretRemove(service: string): Promise<ExitCode> {
  const env = loadEnv();
  const removed = await removeSecrets(deps(env), service);
  output.data(`${service}: keyless secret removed${removed.length ? ` (${removed.join(', ')})` : ''}`);
  return 0;
}
