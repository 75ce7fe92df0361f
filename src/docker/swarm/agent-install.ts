// The global Swarm service that runs `keyless swarm agent` on every node (pure: the spec only).
import type { ServiceSpec } from '../engine/swarm.js';

export interface AgentInstallSettings {
  name: string;
  image: string;
  sessionDuration: number;
  refreshBefore: number;
  sourceProfile?: string;
  /** Swarm secret names the agent needs to reach its source (e.g. a Vault token) */
  secrets: string[];
}

export function agentServiceSpec(s: AgentInstallSettings): ServiceSpec {
  const args = [
    'swarm',
    'agent',
    '--session-duration',
    String(s.sessionDuration),
    '--refresh-before',
    String(s.refreshBefore),
  ];
  if (s.sourceProfile) args.push('--source-profile', s.sourceProfile);
  return {
    Name: s.name,
    Labels: { 'keyless.component': 'swarm-agent' },
    Mode: { Global: {} },
    TaskTemplate: {
      ContainerSpec: {
        Image: s.image,
        Command: ['keyless'],
        Args: args,
        // the agent resolves tasks through the node's own engine
        Mounts: [{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }],
        // to add 169.254.170.2 on lo in the host's network namespace
        CapabilityAdd: ['CAP_NET_ADMIN'],
        Secrets: s.secrets.map((name) => ({
          File: { Name: name, UID: '0', GID: '0', Mode: 0o400 },
          SecretID: '',
          SecretName: name,
        })),
      },
      Networks: [{ Target: 'host' }],
      RestartPolicy: { Condition: 'any', Delay: 2_000_000_000 },
    },
    UpdateConfig: { Parallelism: 1, Order: 'stop-first' },
  };
}
