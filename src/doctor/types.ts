// Doctor results: each check is ok / warn / fail, what it found, and the exact fix.
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  found: string;
  fix?: string;
}

/** The documented, stable --json shape (version 1). */
export interface DoctorReport {
  version: 1;
  checks: CheckResult[];
  summary: Record<CheckStatus, number>;
}

export function report(checks: CheckResult[]): DoctorReport {
  const summary: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status]++;
  return { version: 1, checks, summary };
}
