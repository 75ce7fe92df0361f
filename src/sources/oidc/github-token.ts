// GitHub Actions' ID token service, as @actions/core's getIDToken calls it: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL with &audience=AUD, Authorization: Bearer
// $ACTIONS_ID_TOKEN_REQUEST_TOKEN, answer {"value": "<JWT>"}. The runner sets both variables only
// for jobs with `permissions: id-token: write`. Neither the request token nor the JWT ever reaches
// an error message or a log line.
import type { EnvVars } from '../../config/env.js';
import { nonEmpty } from '../../config/env.js';
import { AWS_TIMEOUTS } from '../../aws/client-config.js';
import { KeylessError } from '../../errors.js';
import { OidcErrorCode } from './oidc-errors.js';

export const GITHUB_REQUEST_URL_ENV = 'ACTIONS_ID_TOKEN_REQUEST_URL';
export const GITHUB_REQUEST_TOKEN_ENV = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN';

const PERMISSION_HINT = 'GitHub sets it only for jobs with `permissions: id-token: write`';

export type Fetch = typeof fetch;

/** The URL of one request: the runner's URL (it carries api-version) plus the audience. */
export function githubTokenUrl(requestUrl: string, audience: string): URL {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new KeylessError(
      OidcErrorCode.CONFIG,
      `${GITHUB_REQUEST_URL_ENV} is not a URL. Check that the job sets it as the runner does (${PERMISSION_HINT}).`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new KeylessError(OidcErrorCode.CONFIG, `${GITHUB_REQUEST_URL_ENV} is not an http(s) URL.`);
  url.searchParams.set('audience', audience);
  return url;
}

/** Asks the runner for a fresh ID token for `audience`. */
export async function requestGithubToken(
  vars: EnvVars,
  audience: string,
  fetchImpl: Fetch = fetch,
): Promise<string> {
  const requestUrl = nonEmpty(vars[GITHUB_REQUEST_URL_ENV]);
  const requestToken = nonEmpty(vars[GITHUB_REQUEST_TOKEN_ENV]);
  const missing = [
    ...(requestUrl ? [] : [GITHUB_REQUEST_URL_ENV]),
    ...(requestToken ? [] : [GITHUB_REQUEST_TOKEN_ENV]),
  ];
  if (!requestUrl || !requestToken)
    throw new KeylessError(
      OidcErrorCode.NO_TOKEN,
      `--oidc github needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not set: ${PERMISSION_HINT}. Add it to the workflow (or job), and run keyless in a step of that job.`,
    );
  const url = githubTokenUrl(requestUrl, audience);
  let res: Response;
  try {
    res = await fetchImpl(url, {
      headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json; api-version=2.0' },
      signal: AbortSignal.timeout(AWS_TIMEOUTS.requestTimeout),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string } };
    throw new KeylessError(
      OidcErrorCode.REQUEST_FAILED,
      `cannot reach the GitHub Actions ID token service at ${url.host} (${e.cause?.code ?? e.name ?? 'error'}). Check ${GITHUB_REQUEST_URL_ENV}.`,
    );
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new KeylessError(
      OidcErrorCode.REQUEST_REFUSED,
      `the GitHub Actions ID token service refused the request (HTTP ${res.status}). Check ${GITHUB_REQUEST_TOKEN_ENV}: it must be this job's own value, unchanged (${PERMISSION_HINT}).`,
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new KeylessError(
      OidcErrorCode.REQUEST_FAILED,
      `the GitHub Actions ID token service answered HTTP ${res.status}. Check ${GITHUB_REQUEST_URL_ENV} and the audience (${audience}).`,
    );
  }
  let value: unknown;
  try {
    value = ((await res.json()) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || !isJwtShaped(value))
    throw new KeylessError(
      OidcErrorCode.REQUEST_FAILED,
      `the GitHub Actions ID token service answered without a token ("value" missing or not a JWT). Check ${GITHUB_REQUEST_URL_ENV}.`,
    );
  return value;
}

/** Three base64url parts: a JWS compact serialisation (not verified here: STS verifies it). */
export function isJwtShaped(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value.trim());
}
