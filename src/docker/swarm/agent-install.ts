// The global Swarm service that runs `keyless swarm agent` on every node (pure: the spec only).
import type { ServiceSpec } from '../engine/swarm.js';

export interface AgentInstallSettings {
  name: string;
  image: string;
  sessionDuration: number;
  refreshBefore: number;
  sourceProfile?: string;
  /**
   * a web identity token file on every node (or a Swarm secret's /run/secrets/NAME) exchanged for
   * each attached service's role, in place of a source profile
   */
  oidcTokenFile?: string;
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
  const mounts: { Type: 'bind'; Source: string; Target: string; ReadOnly?: boolean }[] = [
    // the agent resolves tasks through the node's own engine
    { Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' },
  ];
  if (s.oidcTokenFile) {
    args.push('--oidc', `file:${s.oidcTokenFile}`);
    // a node's file is bound read-only at the same path; a Swarm secret is there already
    if (!s.oidcTokenFile.startsWith('/run/secrets/'))
      mounts.push({ Type: 'bind', Source: s.oidcTokenFile, Target: s.oidcTokenFile, ReadOnly: true });
  }
  return {
    Name: s.name,
    Labels: { 'keyless.component': 'swarm-agent' },
    Mode: { Global: {} },
    TaskTemplate: {
      ContainerSpec: {
        Image: s.image,
        Command: ['keyless'],
        Args: args,
        Mounts: mounts,
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
