// A long-running process tied to its KEYLESS_HOME (the credential server) stops when that folder is
// removed or replaced, or its control socket is deleted: nothing could reach or stop it any more, and
// it would go on serving credentials nobody can see (a test's temporary home, `rm -rf ~/.keyless`).
import { statSync } from 'node:fs';

export const HOME_CHECK_MS = 2_000;

/** Calls onGone once, with the reason, when home or one of the files disappears; returns the stop. */
export function watchHome(
  home: string,
  files: string[],
  onGone: (why: string) => void,
  everyMs = HOME_CHECK_MS,
): () => void {
  const first = statSync(home);
  const timer = setInterval(() => {
    let why: string | undefined;
    try {
      const st = statSync(home);
      if (st.ino !== first.ino || st.dev !== first.dev) why = `${home} was replaced`;
      else
        for (const f of files)
          try {
            statSync(f);
          } catch {
            why = `${f} was removed`;
            break;
          }
    } catch {
      why = `${home} was removed`;
    }
    if (why) {
      clearInterval(timer);
      onGone(why);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
