// The host clock against AWS's: SigV4 refuses a request signed more than 5 minutes off, and session
// expiries are computed from this clock. One unsigned GET to the STS endpoint (AWS_ENDPOINT_URL_STS /
// AWS_ENDPOINT_URL, else the regional endpoint), whose Date header is compared with the local time
// taken halfway through the request. Opt-in (keyless doctor --clock): it is the only check that
// leaves the machine on its own.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { KeylessEnv } from '../../config/env.js';
import { endpointFor } from '../../aws/client-config.js';
import type { CheckResult } from '../types.js';

const WARN_MS = 60_000;
const FAIL_MS = 5 * 60_000;

/** Pure: the verdict for a measured skew (server minus local, ms; Date has 1 s resolution). */
export function clockVerdict(skewMs: number, from: string): CheckResult {
  const base = { id: 'clock', title: 'clock against AWS' };
  const secs = Math.round(skewMs / 1000);
  const off = `${Math.abs(secs)} s ${secs > 0 ? 'behind' : 'ahead of'} ${from}`;
  const fix =
    'Sync the clock (timedatectl set-ntp true, or chronyd / systemd-timesyncd); inside a VM or WSL, restart its time sync. AWS refuses signatures more than 5 minutes off.';
  if (Math.abs(skewMs) > FAIL_MS) return { ...base, status: 'fail', found: `this host is ${off}`, fix };
  if (Math.abs(skewMs) > WARN_MS) return { ...base, status: 'warn', found: `this host is ${off}`, fix };
  return { ...base, status: 'ok', found: `within ${Math.max(1, Math.abs(secs))} s of ${from}` };
}

function dateOf(url: URL, timeoutMs: number): Promise<{ date: string | undefined; localMid: number }> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      { method: 'GET', timeout: timeoutMs },
      (res) => {
        const localMid = start + (Date.now() - start) / 2;
        res.resume();
        resolve({ date: res.headers.date, localMid });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

export async function checkClock(env: KeylessEnv, timeoutMs = 5_000): Promise<CheckResult> {
  const base = { id: 'clock', title: 'clock against AWS' };
  const endpoint = endpointFor(env, 'STS') ?? `https://sts.${env.awsRegion ?? 'us-east-1'}.amazonaws.com`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ...base, status: 'skip', found: `the STS endpoint "${endpoint}" is not a URL` };
  }
  try {
    const { date, localMid } = await dateOf(url, timeoutMs);
    const server = date ? Date.parse(date) : NaN;
    if (Number.isNaN(server))
      return { ...base, status: 'skip', found: `${url.host} sent no usable Date header` };
    // Date is truncated to the second: its true time lies in [server, server + 1 s)
    return clockVerdict(server + 500 - localMid, url.host);
  } catch (err) {
    return {
      ...base,
      status: 'skip',
      found: `could not reach ${url.host} (${(err as Error).message})`,
      fix: 'Check the network or AWS_ENDPOINT_URL; the clock was not compared.',
    };
  }
}
