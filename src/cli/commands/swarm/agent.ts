// Bodies of `keyless swarm agent`, `agent install`, `attach`, `detach`.
import { rm } from 'node:fs/promises';
import { loadEnv } from '../../../config/env.js';
import { usageError } from '../../../errors.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import { swarmState } from '../../../docker/engine/swarm.js';
import { startSwarmAgent, effectiveRefreshBefore } from '../../../docker/swarm/agent.js';
import { ensureLinkLocalAddress } from '../../../docker/swarm/link-local-address.js';
import { startAgentStatusSocket } from '../../../docker/swarm/agent-status.js';
import { keylessPaths } from '../../../config/paths.js';
import { attachService, detachService } from '../../../docker/swarm/attach.js';
import { agentServiceSpec } from '../../../docker/swarm/agent-install.js';
import { createCredentialSource } from '../../../sources/index.js';
import type { CredentialSource } from '../../../sources/types.js';
import { describeOidcSpec, oidcSpecFromFlags } from '../../../sources/oidc/index.js';
import { swarmCredentialRequest } from '../../../docker/swarm/credential-request.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import type { AgentInstallOptions, AgentOptions, AttachCliOptions } from '../swarm.js';

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw usageError(`${flag} must be a positive whole number of seconds, got "${value}".`);
  return n;
}

function hostPort(value: string): { host: string; port: number } {
  const m = /^([^:]+):(\d{1,5})$/.exec(value);
  if (!m) throw usageError(`--listen must be HOST:PORT, got "${value}".`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** The agent serves Swarm tasks: on an engine that is in no swarm it would wait for nothing. */
export function swarmNodeWarning(state: string | undefined, engine: string): string | undefined {
  if (state === undefined || state === 'active') return undefined;
  return `the Docker engine at ${engine} is not in a swarm (state: ${state}): no task will ask this agent until the node joins one (docker swarm join), or point DOCKER_HOST at a swarm node.`;
}

export async function runAgent(opts: AgentOptions): Promise<ExitCode> {
  const duration = seconds(opts.sessionDuration, '--session-duration');
  const refreshBefore = seconds(opts.refreshBefore, '--refresh-before');
  if (duration < 900)
    output.warn(
      `session duration ${duration} s is under AWS's 900-second floor: real STS refuses it (emulators may not).`,
    );
  const effective = effectiveRefreshBefore(duration, refreshBefore);
  if (effective !== refreshBefore)
    output.warn(`--refresh-before capped at half the duration: ${effective} s.`);
  const oidc = oidcSpecFromFlags(opts);
  if (oidc && opts.sourceProfile)
    throw usageError('--oidc takes the place of --source-profile: give one of them.');
  const env = loadEnv();
  const listen = hostPort(opts.listen);
  const removeAddress = await ensureLinkLocalAddress(listen.host);
  const agent = await startSwarmAgent({
    client: dockerClientFromEnv(env),
    listen,
    sessionDurationSeconds: duration,
    refreshBeforeSeconds: refreshBefore,
    log: (line) => output.info(line),
    sourceFor: (key, durationSeconds) => {
      let source: CredentialSource | undefined;
      return async () => {
        source ??= await createCredentialSource(
          swarmCredentialRequest(
            key,
            {
              ...(opts.sourceProfile ? { sourceProfile: opts.sourceProfile } : {}),
              ...(oidc ? { oidc } : {}),
            },
            durationSeconds,
          ),
          // sessions handed to tasks keep at least refresh-before
          { env, minValidityMs: effective * 1000 },
        );
        try {
          return await source();
        } catch (err) {
          // planned afresh next time: the profile or its keys may be fixed by then
          source = undefined;
          throw err;
        }
      };
    },
  }).catch(async (err: unknown) => {
    await removeAddress();
    throw err;
  });
  const startedAt = new Date().toISOString();
  // keyless status shows the tasks (only this user can read the socket)
  const statusSocket = keylessPaths(env.keylessHome).swarmAgentSocket;
  const status = await startAgentStatusSocket(statusSocket, () => ({
    pid: process.pid,
    listen: agent.address,
    startedAt,
    tasks: agent.tasks(),
  })).catch((err: Error) => {
    output.warn(`keyless status will not show the agent's tasks: ${err.message}`);
    return undefined;
  });
  output.info(
    `keyless swarm agent serving http://${agent.address}/v1/creds/… to attached services' tasks on this node`,
  );
  const notInSwarm = swarmNodeWarning(
    await swarmState(dockerClientFromEnv(env)).catch(() => undefined),
    dockerClientFromEnv(env).endpoint.description,
  );
  if (notInSwarm) output.warn(notInSwarm);
  if (oidc)
    output.info(
      `roles of services attached with --role-arn come from a web identity token from ${describeOidcSpec(oidc)}`,
    );
  let stopRegistryAuth: (() => void) | undefined;
  if (opts.registryAuth) {
    const { startAgentRegistryAuth } = await import('./registry-auth.js');
    stopRegistryAuth = startAgentRegistryAuth(env, dockerClientFromEnv(env));
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  stopRegistryAuth?.();
  status?.close();
  await rm(statusSocket, { force: true });
  await agent.close();
  await removeAddress();
  return 0;
}

export async function runAgentInstall(opts: AgentInstallOptions): Promise<ExitCode> {
  const oidcTokenFile = installTokenFile(opts.oidc);
  if (oidcTokenFile && opts.sourceProfile)
    throw usageError('--oidc takes the place of --source-profile: give one of them.');
  const env = loadEnv();
  const client = dockerClientFromEnv(env);
  const spec = agentServiceSpec({
    name: opts.name,
    image: opts.image,
    sessionDuration: seconds(opts.sessionDuration, '--session-duration'),
    refreshBefore: seconds(opts.refreshBefore, '--refresh-before'),
    ...(opts.sourceProfile ? { sourceProfile: opts.sourceProfile } : {}),
    ...(oidcTokenFile ? { oidcTokenFile } : {}),
    secrets: opts.secret ?? [],
  });
  const secretIds = new Map<string, string>();
  for (const name of opts.secret ?? []) {
    const found = await client.json<{ ID: string; Spec: { Name: string } }[]>('GET', '/secrets', {
      query: { filters: JSON.stringify({ name: [name] }) },
    });
    const s = found.find((x) => x.Spec.Name === name);
    if (!s)
      throw usageError(
        `Swarm secret "${name}" does not exist. Create it first: printf %s "$TOKEN" | docker secret create ${name} -`,
      );
    secretIds.set(name, s.ID);
  }
  for (const ref of spec.TaskTemplate.ContainerSpec.Secrets ?? [])
    ref.SecretID = secretIds.get(ref.SecretName) ?? '';
  const r = await client.json<{ ID: string }>('POST', '/services/create', { body: spec });
  output.data(`created global service ${opts.name} (${r.ID})`);
  return 0;
}

/**
 * --oidc for the agent's service: only a token file reaches a task without showing in `docker inspect`
 * (a node's file bound in, or a Swarm secret); a runner's or a variable's token does not exist there.
 */
function installTokenFile(oidc: string | undefined): string | undefined {
  if (oidc === undefined) return undefined;
  const m = /^file:(\/.+)$/.exec(oidc);
  if (!m)
    throw usageError(
      `agent install takes --oidc file:/ABSOLUTE/PATH (a token file present on every node, or /run/secrets/NAME with --secret NAME), got "${oidc.slice(0, 80)}": a CI runner's token or a variable does not reach a Swarm service without showing in docker inspect.`,
    );
  return m[1] as string;
}

export async function runAttach(service: string, opts: AttachCliOptions): Promise<ExitCode> {
  if (!opts.profile && !opts.roleArn)
    throw usageError('say which role: --profile PROFILE or --role-arn ARN.');
  const env = loadEnv();
  const region = opts.region ?? env.awsRegion;
  const name = await attachService(dockerClientFromEnv(env), service, {
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.roleArn ? { roleArn: opts.roleArn } : {}),
    ...(region ? { region } : {}),
  });
  output.data(
    `${name}: attached (${opts.roleArn ?? opts.profile}); its tasks are being replaced to pick up the URI`,
  );
  return 0;
}

export async function runDetach(service: string): Promise<ExitCode> {
  const changed = await detachService(dockerClientFromEnv(loadEnv()), service);
  output.data(changed ? `${service}: detached` : `${service}: was not attached`);
  return 0;
}
