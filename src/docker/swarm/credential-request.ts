// What a Swarm service's role is minted from, for the agent and for secret mode (pure): the service's
// profile, or the agent's / secret's web identity source exchanged for the service's role, or the
// agent's source profile with the role assumed on top.
import { usageError } from '../../errors.js';
import type { CredentialRequest, OidcSpec } from '../../sources/index.js';
import { parseOidcSpec } from '../../sources/oidc/index.js';

export interface SwarmRoleSettings {
  /** the service's (or secret's) own profile: always wins */
  profile?: string;
  roleArn?: string;
}

export interface SwarmSourceSettings {
  /** the agent's own profile, under a role ARN that names no profile */
  sourceProfile?: string;
  /** a web identity source (formatOidcSpec text or a parsed spec) exchanged for the role */
  oidc?: string | OidcSpec;
}

export function swarmCredentialRequest(
  role: SwarmRoleSettings,
  source: SwarmSourceSettings,
  durationSeconds: number,
): CredentialRequest {
  if (role.profile)
    return { profile: role.profile, ...(role.roleArn ? { roleArn: role.roleArn } : {}), durationSeconds };
  if (source.oidc !== undefined) {
    if (!role.roleArn)
      throw usageError(
        'a web identity token is exchanged for a role: attach the service with --role-arn ARN (or give it a --profile).',
      );
    const oidc = typeof source.oidc === 'string' ? parseOidcSpec(source.oidc) : source.oidc;
    return { oidc, roleArn: role.roleArn, durationSeconds };
  }
  return {
    ...(source.sourceProfile ? { profile: source.sourceProfile } : {}),
    ...(role.roleArn ? { roleArn: role.roleArn } : {}),
    durationSeconds,
  };
}
