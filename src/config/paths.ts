// Layout of $KEYLESS_HOME. Folders are 0700, files holding secrets 0600.
import { join } from 'node:path';

export interface KeylessPaths {
  readonly home: string;
  /** encrypted long-term keys, one file per item */
  readonly vaultDir: string;
  /** encrypted short-lived sessions */
  readonly sessionsDir: string;
  /** settings file (backend choice, passphrase command, ...) */
  readonly configFile: string;
  /** credential server: control socket, pid, log */
  readonly serverDir: string;
  readonly controlSocket: string;
  readonly serverPidFile: string;
  readonly serverLogFile: string;
  readonly auditLog: string;
  /** the folder mounted into the endpoint container: only the channel socket is in it */
  readonly endpointDir: string;
  /** ECR credential helper token cache and log */
  readonly ecrDir: string;
  readonly ecrTokenCache: string;
  readonly ecrLogFile: string;
  /** per-registry settings: host → account, region, profile or role (keyless ecr configure) */
  readonly ecrRegistries: string;
  /** swarm agent state */
  readonly swarmDir: string;
  /** the swarm agent's status socket (keyless status reads it) */
  readonly swarmAgentSocket: string;
  /** lock files */
  readonly locksDir: string;
}

export function keylessPaths(home: string): KeylessPaths {
  const serverDir = join(home, 'server');
  const ecrDir = join(home, 'ecr');
  return {
    home,
    vaultDir: join(home, 'vault'),
    sessionsDir: join(home, 'sessions'),
    configFile: join(home, 'config.json'),
    serverDir,
    controlSocket: join(serverDir, 'control.sock'),
    serverPidFile: join(serverDir, 'server.pid'),
    serverLogFile: join(serverDir, 'server.log'),
    auditLog: join(home, 'audit.log'),
    endpointDir: join(home, 'endpoint'),
    ecrDir,
    ecrTokenCache: join(ecrDir, 'tokens.json'),
    ecrLogFile: join(ecrDir, 'helper.log'),
    ecrRegistries: join(ecrDir, 'registries.json'),
    swarmDir: join(home, 'swarm'),
    swarmAgentSocket: join(home, 'swarm', 'agent.sock'),
    locksDir: join(home, 'locks'),
  };
}
