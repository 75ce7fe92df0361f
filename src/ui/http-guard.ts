// The page's HTTP rules, in one place: the Host header must name the address the page listens on (no
// DNS rebinding), actions must come from the page's own origin, and every answer carries a strict
// Content-Security-Policy and no-cache, no-referrer, no-framing headers.

/** Only the page's own script, style and event stream; no inline code, no other origin, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The Host header must be exactly the listen address ("127.0.0.1:PORT"): a rebound name is refused. */
export function hostAllowed(host: string | undefined, listenHost: string): boolean {
  return host === listenHost;
}

/**
 * An action must come from the page: browsers send Origin (and Sec-Fetch-Site) on a POST; when present
 * they must name this origin. The CSRF token is the check that does not rely on the browser.
 */
export function sameOrigin(
  origin: string | undefined,
  fetchSite: string | undefined,
  pageOrigin: string,
): boolean {
  if (origin !== undefined && origin !== pageOrigin) return false;
  return fetchSite === undefined || fetchSite === 'same-origin';
}
