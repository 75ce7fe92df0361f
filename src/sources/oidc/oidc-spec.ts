// Where a web identity (OIDC) token comes from, as --oidc names it, and the one-line form carried in
// lease keys, control-socket requests and the keyless.oidc container label (pure). The form names a
// place (a variable, a file, the GitHub runner), never holds a token.
import { KeylessError } from '../../errors.js';
import { OidcErrorCode } from './oidc-errors.js';

/** STS's audience; GitHub's aws-actions/configure-aws-credentials and GitLab's docs use it too. */
export const DEFAULT_AUDIENCE = 'sts.amazonaws.com';
/** The id_tokens variable keyless reads in GitLab CI unless --oidc-token-env names another. */
export const DEFAULT_GITLAB_TOKEN_ENV = 'AWS_OIDC_TOKEN';

export type OidcSpec =
  | { kind: 'github'; audience: string }
  | { kind: 'gitlab'; variable: string }
  | { kind: 'env'; variable: string }
  | { kind: 'file'; path: string };

export interface OidcOptionFlags {
  oidc?: string;
  oidcAudience?: string;
  oidcTokenEnv?: string;
}

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(message: string): KeylessError {
  return new KeylessError(OidcErrorCode.CONFIG, message);
}

function variable(name: string, what: string): string {
  if (!VARIABLE.test(name))
    throw invalid(`${what} "${name.slice(0, 60)}" is not an environment variable name (letters, digits, _).`);
  return name;
}

/**
 * The --oidc value (github, gitlab, file:PATH, env:VAR; the key form `github:AUDIENCE` and
 * `gitlab:VAR` too) with --oidc-audience and --oidc-token-env → a spec. The two companions apply only
 * to the provider they belong to; giving one to another provider is a usage error, not ignored.
 */
export function parseOidcSpec(value: string, flags: Omit<OidcOptionFlags, 'oidc'> = {}): OidcSpec {
  const colon = value.indexOf(':');
  const kind = colon < 0 ? value : value.slice(0, colon);
  const rest = colon < 0 ? undefined : value.slice(colon + 1);
  if (flags.oidcAudience !== undefined && kind !== 'github')
    throw invalid("--oidc-audience applies to --oidc github only (GitLab sets aud in the job's id_tokens).");
  if (flags.oidcTokenEnv !== undefined && kind !== 'gitlab')
    throw invalid('--oidc-token-env applies to --oidc gitlab only (use --oidc env:VAR for any variable).');
  switch (kind) {
    case 'github': {
      const audience = flags.oidcAudience ?? (rest || undefined) ?? DEFAULT_AUDIENCE;
      if (audience.trim() === '' || /[\s]/.test(audience))
        throw invalid(`--oidc-audience "${audience.slice(0, 60)}" is empty or has spaces.`);
      return { kind: 'github', audience };
    }
    case 'gitlab':
      return {
        kind: 'gitlab',
        variable: variable(
          flags.oidcTokenEnv ?? (rest || undefined) ?? DEFAULT_GITLAB_TOKEN_ENV,
          '--oidc-token-env',
        ),
      };
    case 'env':
      if (!rest) throw invalid('--oidc env:VAR needs the variable name, e.g. --oidc env:CI_JOB_JWT_V2.');
      return { kind: 'env', variable: variable(rest, '--oidc env:') };
    case 'file':
      if (!rest) throw invalid('--oidc file:PATH needs the token file, e.g. --oidc file:/var/run/token.');
      return { kind: 'file', path: rest };
    default:
      throw invalid(`--oidc "${value.slice(0, 60)}" is not one of github, gitlab, file:PATH or env:VAR.`);
  }
}

/** The one-line form: parseOidcSpec(formatOidcSpec(s)) deep-equals s. */
export function formatOidcSpec(spec: OidcSpec): string {
  switch (spec.kind) {
    case 'github':
      return `github:${spec.audience}`;
    case 'gitlab':
      return `gitlab:${spec.variable}`;
    case 'env':
      return `env:${spec.variable}`;
    case 'file':
      return `file:${spec.path}`;
    default:
      return spec satisfies never;
  }
}

/** What a log line or an error may say about where the token comes from. */
export function describeOidcSpec(spec: OidcSpec): string {
  switch (spec.kind) {
    case 'github':
      return `the GitHub Actions runner (audience ${spec.audience})`;
    case 'gitlab':
      return `GitLab CI's id_tokens variable ${spec.variable}`;
    case 'env':
      return `the variable ${spec.variable}`;
    case 'file':
      return `the file ${spec.path}`;
    default:
      return spec satisfies never;
  }
}
