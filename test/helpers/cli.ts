// Runs the built CLI as a real process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const KEYLESS_BIN = fileURLToPath(new URL('../../bin/keyless.js', import.meta.url));
export const HELPER_BIN = fileURLToPath(new URL('../../bin/docker-credential-keyless.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: Record<string, string>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

export function runProcess(cmd: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export function runKeyless(args: string[], options: RunOptions): Promise<RunResult> {
  return runProcess(process.execPath, [KEYLESS_BIN, ...args], options);
}
