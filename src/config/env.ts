// The one place that reads process.env. Everything else receives a KeylessEnv (tests pass their own).
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type EnvVars = Readonly<Record<string, string | undefined>>;

export interface KeylessEnv {
  /** A frozen copy of the variables, for area-specific lookups (VAULT_ADDR, DOCKER_HOST, ...). */
  readonly vars: EnvVars;
  readonly home: string;
  /** $KEYLESS_HOME, default ~/.keyless */
  readonly keylessHome: string;
  readonly passphrase: string | undefined;
  readonly awsProfile: string | undefined;
  /** AWS_REGION, then AWS_DEFAULT_REGION */
  readonly awsRegion: string | undefined;
  readonly awsConfigFile: string;
  readonly awsSharedCredentialsFile: string;
  readonly metadataDisabled: boolean;
  readonly debug: boolean;
  readonly noColor: boolean;
  /** KEYLESS_NO_PROGRESS set (other than "0" or "false"): no progress bar even on a terminal */
  readonly noProgress: boolean;
  /** CI set (other than "0" or "false"), as CI services do: no progress bar */
  readonly ci: boolean;
}

export function loadEnv(source: NodeJS.ProcessEnv | EnvVars = process.env): KeylessEnv {
  const vars: EnvVars = Object.freeze({ ...source });
  const home = nonEmpty(vars.HOME) ?? homedir();
  const expand = (p: string): string => resolve(p.startsWith('~/') ? join(home, p.slice(2)) : p);
  return {
    vars,
    home,
    keylessHome: expand(nonEmpty(vars.KEYLESS_HOME) ?? join(home, '.keyless')),
    passphrase: vars.KEYLESS_PASSPHRASE,
    awsProfile: nonEmpty(vars.AWS_PROFILE),
    awsRegion: nonEmpty(vars.AWS_REGION) ?? nonEmpty(vars.AWS_DEFAULT_REGION),
    awsConfigFile: expand(nonEmpty(vars.AWS_CONFIG_FILE) ?? join(home, '.aws', 'config')),
    awsSharedCredentialsFile: expand(
      nonEmpty(vars.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, '.aws', 'credentials'),
    ),
    metadataDisabled: (vars.AWS_EC2_METADATA_DISABLED ?? '').toLowerCase() === 'true',
    debug: nonEmpty(vars.KEYLESS_DEBUG) !== undefined,
    noColor: vars.NO_COLOR !== undefined && vars.NO_COLOR !== '',
    noProgress: isSet(vars.KEYLESS_NO_PROGRESS),
    ci: isSet(vars.CI),
  };
}

/** A flag variable: set, and not empty, "0" or "false". */
function isSet(value: string | undefined): boolean {
  return value !== undefined && !['', '0', 'false'].includes(value.trim().toLowerCase());
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
