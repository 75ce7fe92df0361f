// Shared by the HTTP benches: wrk (Debian package) against a URL, and the cached credentials served.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Credentials } from '../../src/sources/types.js';

const exec = promisify(execFile);
const DURATION = process.env.BENCH_SECONDS ?? '5';

export interface WrkResult {
  rps: number;
  p99ms: number;
}

/** One wrk run: 1 thread, 16 connections, BENCH_SECONDS (default 5). */
export async function wrk(url: string, headers: string[]): Promise<WrkResult> {
  const args = ['-t1', '-c16', `-d${DURATION}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const { stdout } = await exec('wrk', args, { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const m = /99%\s+([\d.]+)(us|ms|s)/.exec(stdout);
  const unit = m?.[2] === 'us' ? 0.001 : m?.[2] === 's' ? 1000 : 1;
  return { rps, p99ms: Number(m?.[1]) * unit };
}

/** The best of several rounds: highest throughput, lowest p99. */
export const best = (xs: WrkResult[]): WrkResult => ({
  rps: Math.max(...xs.map((x) => x.rps)),
  p99ms: Math.min(...xs.map((x) => x.p99ms)),
});

/** Cached credentials of realistic size (a 600-byte token), good for 12 hours. */
export const benchCredentials: Credentials = {
  accessKeyId: 'ASIA' + 'B'.repeat(16),
  secretAccessKey: 'x'.repeat(40),
  sessionToken: 't'.repeat(600),
  expiration: new Date(Date.now() + 12 * 3600_000),
  roleArn: 'arn:aws:iam::123456789012:role/bench',
};
