// runChecks: host checks, optional container checks, optional EC2 checks (only with an instance id).
import type { KeylessEnv } from '../config/env.js';
import { dockerClientFromEnv } from '../docker/engine/index.js';
import {
  checkContainers,
  checkEndpointMode,
  checkEngine,
  checkNetwork,
  checkServer,
} from './checks/docker.js';
import { checkDockerAuths, checkPlaintextKeys, checkRegion, checkVaultPermissions } from './checks/files.js';
import { checkContainer } from './checks/in-container.js';
import { report, type CheckResult, type DoctorReport } from './types.js';

export interface DoctorOptions {
  container?: string;
  instanceId?: string;
  profile?: string;
  /** compare the clock with AWS's (one unsigned request to the STS endpoint) */
  clock?: boolean;
}

export async function runDoctor(env: KeylessEnv, options: DoctorOptions): Promise<DoctorReport> {
  const docker = dockerClientFromEnv(env);
  const checks: CheckResult[] = [];
  const engine = await checkEngine(docker);
  checks.push(engine);
  if (engine.status === 'ok') checks.push(await checkEndpointMode(docker, env), await checkNetwork(docker));
  checks.push(await checkServer(env, engine.status === 'ok' ? docker : undefined));
  checks.push(await checkVaultPermissions(env));
  checks.push(await checkPlaintextKeys(env));
  checks.push(await checkDockerAuths(env));
  checks.push(await checkRegion(env));
  if (engine.status === 'ok') checks.push(await checkContainers(docker));
  if (options.container) checks.push(...(await checkContainer(docker, options.container)));
  if (options.clock) {
    const { checkClock } = await import('./checks/clock.js');
    checks.push(await checkClock(env));
  }
  if (options.instanceId) {
    const { checkInstance } = await import('./checks/ec2.js');
    checks.push(await checkInstance(env, options.instanceId, options.profile));
  }
  return report(checks);
}
