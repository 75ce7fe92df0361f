// What an AWS SDK error means for the user, and what to do about it: one sentence per kind of
// failure, appended to the error a command reports (never the request, which may hold a secret).

export type AwsFailureKind = 'no-credentials' | 'unreachable' | 'key-refused' | 'denied' | 'other';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

export function awsFailureKind(err: unknown): AwsFailureKind {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  const name = e?.name ?? '';
  if (name === 'CredentialsProviderError') return 'no-credentials';
  if (NETWORK_CODES.has(e?.code ?? '') || name === 'TimeoutError') return 'unreachable';
  if (/^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|AuthFailure)$/.test(name))
    return 'key-refused';
  if (/^(AccessDenied|AccessDeniedException|UnauthorizedOperation)$/.test(name)) return 'denied';
  return 'other';
}

/** The SDK's message, first line only, without a trailing period. */
export function awsFailureMessage(err: unknown): string {
  const e = err as { name?: string; message?: string } | undefined;
  const first = (e?.message ?? String(err)).split('\n')[0] ?? '';
  const message = first.replace(/\.\s*$/, '');
  return e?.name && e.name !== 'Error' ? `${e.name}: ${message}` : message;
}

/** What to check, for the kinds where keyless knows better than "try again"; undefined otherwise. */
export function awsFailureHint(err: unknown): string | undefined {
  switch (awsFailureKind(err)) {
    case 'no-credentials':
      return 'No AWS credentials were found: pass --profile PROFILE (a keyless or ~/.aws/config profile) or set AWS_PROFILE.';
    case 'unreachable':
      return 'AWS could not be reached: check the network (proxy, DNS) and AWS_ENDPOINT_URL if it is set.';
    case 'key-refused':
      return 'AWS does not accept the key: it may be deleted, deactivated or mistyped. Check it in IAM, then store the right one with `keyless add PROFILE --force`.';
    case 'denied':
      return "The credentials' identity lacks the permission this call needs: check its IAM policies.";
    default:
      return undefined;
  }
}
