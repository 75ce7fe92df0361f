// Command actions return an exit status; only cli/main.ts sets the process's exit code.

export type ExitCode = 0 | 1 | 2;

let lastExitCode: ExitCode = 0;

export function setExitCode(code: ExitCode): void {
  lastExitCode = code;
}

export function takeExitCode(): ExitCode {
  return lastExitCode;
}

/** Wraps an action so its returned status reaches main. Throw KeylessError for failures. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<ExitCode | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (code !== undefined) setExitCode(code);
  };
}
