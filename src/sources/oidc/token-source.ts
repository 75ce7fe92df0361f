// An OidcSpec → a function that returns a fresh token on every call. Nothing is cached here: the web
// identity source calls it once per STS exchange, so each role session is minted from a token taken
// just before (CI tokens live minutes; a projected token file is rewritten before it expires).
import { readFile } from 'node:fs/promises';
import type { EnvVars } from '../../config/env.js';
import { KeylessError } from '../../errors.js';
import { isJwtShaped, requestGithubToken, type Fetch } from './github-token.js';
import { OidcErrorCode } from './oidc-errors.js';
import { describeOidcSpec, type OidcSpec } from './oidc-spec.js';

export type TokenReader = () => Promise<string>;

export interface TokenSourceDeps {
  /** the variables the process started with (GitHub's request variables, id_tokens variables) */
  vars: EnvVars;
  fetch?: Fetch;
}

/**
 * Reads a token and checks that it is JWT-shaped before anything sends it to STS: a place that holds
 * something else (a variable or file named by mistake, or by a container label) is refused here, so
 * no other secret is ever sent as a token.
 */
export function oidcTokenSource(spec: OidcSpec, deps: TokenSourceDeps): TokenReader {
  const read = readerFor(spec, deps);
  return async () => {
    const token = await read();
    if (!isJwtShaped(token))
      throw new KeylessError(
        OidcErrorCode.NO_TOKEN,
        `${describeOidcSpec(spec)} does not hold an OIDC token (a JWT: three base64url parts separated by dots). Check that it names the token.`,
      );
    return token;
  };
}

function readerFor(spec: OidcSpec, deps: TokenSourceDeps): TokenReader {
  switch (spec.kind) {
    case 'github':
      return () => requestGithubToken(deps.vars, spec.audience, deps.fetch);
    case 'gitlab':
      return async () =>
        fromVariable(
          deps.vars,
          spec.variable,
          `GitLab CI sets it from the job's id_tokens: add\n  id_tokens:\n    ${spec.variable}:\n      aud: sts.amazonaws.com\nto the job, or name the variable with --oidc-token-env`,
        );
    case 'env':
      return async () => fromVariable(deps.vars, spec.variable, 'set it to the OIDC token');
    case 'file':
      return async () => fromFile(spec.path);
    default:
      return spec satisfies never;
  }
}

function fromVariable(vars: EnvVars, name: string, hint: string): string {
  const value = vars[name]?.trim();
  if (!value)
    throw new KeylessError(
      OidcErrorCode.NO_TOKEN,
      `the OIDC token variable ${name} is not set or empty: ${hint}.`,
    );
  return value;
}

async function fromFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KeylessError(
      OidcErrorCode.NO_TOKEN,
      `cannot read the web identity token file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Check web_identity_token_file / AWS_WEB_IDENTITY_TOKEN_FILE / --oidc file:.`,
    );
  }
  const token = text.trim();
  if (token === '')
    throw new KeylessError(OidcErrorCode.NO_TOKEN, `the web identity token file ${path} is empty.`);
  return token;
}
