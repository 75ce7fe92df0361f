// A one-line status on stderr for long work (image scans): drawn only on a terminal, redrawn in place
// with \r at most 10 times a second, and erased when the work ends, so the report and any message
// start on a clean line. Whether to draw it at all is decided here, in one rule.
import type { KeylessEnv } from '../config/env.js';

export const PROGRESS_INTERVAL_MS = 100;
/** ANSI "erase to end of line": a shorter redraw leaves no tail of the longer one */
const ERASE_LINE = '\x1b[K';

export interface StatusStream {
  write(text: string): unknown;
  /** the terminal's width, when known */
  columns?: number;
}

export interface StatusLine {
  /** Redraws the line with render(columns), unless the last draw was less than the interval ago. */
  update(render: (columns: number) => string): void;
  /** Erases the line, if anything was drawn. */
  clear(): void;
}

export interface StatusLineOptions {
  now?: () => number;
  intervalMs?: number;
}

export function createStatusLine(stream: StatusStream, options: StatusLineOptions = {}): StatusLine {
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  let last: number | undefined;
  let drawn = false;
  return {
    update(render) {
      const t = now();
      if (last !== undefined && t - last < interval) return;
      last = t;
      stream.write(`\r${render(stream.columns || 80)}${ERASE_LINE}`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write(`\r${ERASE_LINE}`);
      drawn = false;
    },
  };
}

export interface ProgressContext {
  /** whether stderr is a terminal */
  isTTY: boolean;
  /** --quiet */
  quiet: boolean;
  env: Pick<KeylessEnv, 'noProgress' | 'ci' | 'vars'>;
}

/** Progress only on a terminal, and never with --quiet, KEYLESS_NO_PROGRESS=1, CI set or TERM=dumb. */
export function progressEnabled(c: ProgressContext): boolean {
  return c.isTTY && !c.quiet && !c.env.noProgress && !c.env.ci && c.env.vars.TERM !== 'dumb';
}
