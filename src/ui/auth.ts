// Who may use the page: a one-time login token (in the address keyless ui prints) becomes a session
// cookie (HttpOnly, SameSite=Strict) and a CSRF token that every action must send back in a header.
// Tokens are 256-bit random values; sessions are looked up by their SHA-256, tokens compared in
// constant time (util/timing-safe.ts).
import { createHash, randomBytes } from 'node:crypto';
import { timingSafeEqualString } from '../util/timing-safe.js';

export const SESSION_COOKIE = 'keyless_ui_session';
export const CSRF_HEADER = 'x-csrf-token';
export const LOGIN_PATH = '/login';

export interface UiSession {
  csrf: string;
  createdAt: number;
}

const newToken = (): string => randomBytes(32).toString('base64url');
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Cookie header → name/value pairs (the first of a repeated name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of (header ?? '').split(';')) {
    const part = raw.trim();
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export function sessionCookie(sessionId: string): string {
  // no Max-Age: it ends with the browser session; the server forgets it when keyless ui ends
  return `${SESSION_COOKIE}=${sessionId}; HttpOnly; SameSite=Strict; Path=/`;
}

export class UiAuth {
  private loginToken: string | undefined = newToken();
  private readonly sessions = new Map<string, UiSession>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The one-time login token, until it is used. */
  get pendingLoginToken(): string | undefined {
    return this.loginToken;
  }

  /** Exchanges the one-time token for a session; undefined when wrong or already used. */
  login(token: string): { sessionId: string; session: UiSession } | undefined {
    const expected = this.loginToken;
    if (expected === undefined || !timingSafeEqualString(token, expected)) return undefined;
    this.loginToken = undefined;
    const sessionId = newToken();
    const session: UiSession = { csrf: newToken(), createdAt: this.now() };
    this.sessions.set(sha256(sessionId), session);
    return { sessionId, session };
  }

  /** The session a request's Cookie header carries, if any. */
  session(cookieHeader: string | undefined): UiSession | undefined {
    const id = parseCookies(cookieHeader).get(SESSION_COOKIE);
    return id ? this.sessions.get(sha256(id)) : undefined;
  }

  csrfValid(session: UiSession, header: string | string[] | undefined): boolean {
    return typeof header === 'string' && timingSafeEqualString(header, session.csrf);
  }
}
