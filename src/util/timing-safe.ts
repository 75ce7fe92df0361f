// Constant-time comparison for tokens and ids (never `===` on a secret).
import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two strings in time independent of where they differ (and of their lengths). */
export function timingSafeEqualString(a: string, b: string): boolean {
  // Hash both so the comparison is over equal-length buffers and leaks no length.
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
