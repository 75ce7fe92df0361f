// The one helper for showing credentials: at most an access key id, shortened.

/** "AKIAIOSFODNN7EXAMPLE" → "AKIA…MPLE". */
export function redactAccessKeyId(id: string): string {
  if (id.length <= 8) return '…';
  return `${id.slice(0, 4)}…${id.slice(-4)}`;
}

/** Replaces each secret occurring in text with "****". Empty and very short secrets are ignored. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 8) continue;
    out = out.split(s).join('****');
  }
  return out;
}
