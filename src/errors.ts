// Errors for users: one class, a stable code, a message that ends in what to do.
// Codes are area-prefixed (VAULT_, SOURCE_, SERVER_, DOCKER_, SCAN_, ECR_, DOCTOR_, ...) and never
// change meaning once released. Exit status: 2 for usage/config/input errors (the default), 1 for a
// command's negative answer.

export type ExitStatus = 1 | 2;

export interface KeylessErrorOptions {
  cause?: unknown;
  /** Exit status the CLI uses for this error (default 2). */
  exitCode?: ExitStatus;
  /** Context for logs and --json output. Never put a secret here. */
  details?: Record<string, unknown>;
}

export class KeylessError extends Error {
  override name = 'KeylessError';
  readonly code: string;
  readonly exitCode: ExitStatus;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: KeylessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options.exitCode ?? 2;
    this.details = options.details ?? {};
  }
}

export function isKeylessError(value: unknown): value is KeylessError {
  return value instanceof KeylessError;
}

/** Codes shared by every area. Area-specific codes live beside the area. */
export const CommonErrorCode = {
  USAGE: 'USAGE',
  CONFIG_INVALID: 'CONFIG_INVALID',
  INTERNAL: 'INTERNAL',
  FILE_UNREADABLE: 'FILE_UNREADABLE',
  FILE_UNWRITABLE: 'FILE_UNWRITABLE',
  FILE_UNSAFE_PERMISSIONS: 'FILE_UNSAFE_PERMISSIONS',
  LOCK_TIMEOUT: 'LOCK_TIMEOUT',
} as const;

export function usageError(message: string): KeylessError {
  return new KeylessError(CommonErrorCode.USAGE, message);
}
