// Error codes for the web identity (OIDC) source. Messages name the variable or setting to check and
// never carry a token.
export const OidcErrorCode = {
  /** a --oidc value, profile key or variable that cannot be used as written */
  CONFIG: 'SOURCE_OIDC_CONFIG',
  /** the token is not where the spec says (variable unset, file missing or empty) */
  NO_TOKEN: 'SOURCE_OIDC_NO_TOKEN',
  /** the CI token service refused the request (wrong or expired request token) */
  REQUEST_REFUSED: 'SOURCE_OIDC_REQUEST_REFUSED',
  /** the CI token service could not be reached or answered something else */
  REQUEST_FAILED: 'SOURCE_OIDC_REQUEST_FAILED',
  /** STS refused the token (AssumeRoleWithWebIdentity) */
  EXCHANGE_FAILED: 'SOURCE_OIDC_EXCHANGE_FAILED',
} as const;
