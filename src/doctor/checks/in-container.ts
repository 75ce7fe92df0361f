// Inside a container: can it reach its credentials endpoint, and does an IMDSv2 token request answer?
// The probe runs in the container's own network namespace (nsenter, from the host), so it sees exactly
// what the container's SDKs see. A token PUT that gets no answer while the endpoint accepts connections
// is the hop-limit symptom. doctor never probes 169.254.169.254 by itself: only endpoints the container
// is configured with.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { DockerClient } from '../../docker/engine/client.js';
import type { CheckResult } from '../types.js';

const exec = promisify(execFile);

export interface ProbeResult {
  connect: boolean;
  tokenlessGet?: number;
  tokenPut: number | 'timeout' | 'error';
}

const PROBE = `
const http = require('node:http'); const net = require('node:net');
const u = new URL(process.argv[1]);
const port = Number(u.port || 80);
const req = (method, path, headers, ms) => new Promise((res) => {
  const r = http.request({ host: u.hostname, port, method, path, headers, agent: false }, (x) => { x.resume(); res(x.statusCode); });
  r.setTimeout(ms, () => { r.destroy(); res('timeout'); }); r.on('error', () => res('error')); r.end();
});
(async () => {
  const connect = await new Promise((res) => { const s = net.connect({ host: u.hostname, port }); s.setTimeout(1000, () => { s.destroy(); res(false); }); s.on('connect', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
  if (!connect) { console.log(JSON.stringify({ connect })); return; }
  const tokenlessGet = await req('GET', '/latest/meta-data/', {}, 1500);
  const tokenPut = await req('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': '60' }, 2000);
  console.log(JSON.stringify({ connect, tokenlessGet, tokenPut }));
})();
`;

/** Pure: the verdict on an IMDS probe. */
export function judgeImdsProbe(endpoint: string, p: ProbeResult): CheckResult {
  const base = { id: 'container-imds', title: `IMDSv2 from the container (${endpoint})` };
  if (!p.connect)
    return {
      ...base,
      status: 'fail',
      found: 'the metadata endpoint does not accept connections',
      fix: 'check AWS_EC2_METADATA_SERVICE_ENDPOINT and that the server runs (keyless serve --status)',
    };
  if (p.tokenPut === 200) return { ...base, status: 'ok', found: 'the IMDSv2 token request answers' };
  if (p.tokenPut === 'timeout') {
    return {
      ...base,
      status: 'fail',
      found: `the endpoint accepts connections${typeof p.tokenlessGet === 'number' ? ` and a token-less GET answers ${p.tokenlessGet}` : ''}, but the IMDSv2 token PUT gets no answer: the hop-limit symptom (HttpPutResponseHopLimit 1; containers on a bridge are one hop further)`,
      fix: 'keyless ec2 metadata-options --instance-id INSTANCE --hop-limit 2 --tokens required (and the same in the launch template: --launch-template-id ID)',
    };
  }
  return {
    ...base,
    status: 'fail',
    found: `the token PUT answered ${p.tokenPut}`,
    fix: 'a 403 means IMDS is off or a proxy adds X-Forwarded-For',
  };
}

async function probeIn(pid: number, url: string): Promise<ProbeResult> {
  const { stdout } = await exec(
    'nsenter',
    [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', PROBE, url],
    { timeout: 15_000 },
  );
  return JSON.parse(stdout.trim()) as ProbeResult;
}

async function statusIn(pid: number, url: string, headers: Record<string, string>): Promise<string> {
  const script = `const http=require('node:http');const r=http.get(process.argv[1],{headers:JSON.parse(process.argv[2]),agent:false},(x)=>{x.resume();console.log(x.statusCode)});r.setTimeout(3000,()=>{r.destroy();console.log('timeout')});r.on('error',(e)=>console.log('error '+e.code));`;
  const { stdout } = await exec(
    'nsenter',
    [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', script, url, JSON.stringify(headers)],
    { timeout: 15_000 },
  );
  return stdout.trim();
}

export async function checkContainer(client: DockerClient, id: string): Promise<CheckResult[]> {
  const c = await client.json<{
    Name: string;
    State: { Pid: number; Running: boolean };
    Config: { Env?: string[] };
  }>('GET', `/containers/${encodeURIComponent(id)}/json`);
  const name = c.Name.replace(/^\//, '');
  if (!c.State.Running)
    return [
      {
        id: 'container',
        title: `container ${name}`,
        status: 'fail',
        found: 'not running',
        fix: `docker start ${name}`,
      },
    ];
  const env = Object.fromEntries(
    (c.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  const out: CheckResult[] = [];
  const rel = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (rel || full) {
    const url = rel ? `http://169.254.170.2${rel}` : (full as string);
    const headers: Record<string, string> = env.AWS_CONTAINER_AUTHORIZATION_TOKEN
      ? { Authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN }
      : {};
    const status = await statusIn(c.State.Pid, url, headers);
    out.push(
      status === '200'
        ? {
            id: 'container-credentials',
            title: `credentials endpoint from ${name}`,
            status: 'ok',
            found: `${rel ? 'relative URI' : 'full URI'} answers 200`,
          }
        : {
            id: 'container-credentials',
            title: `credentials endpoint from ${name}`,
            status: 'fail',
            found: `the credentials endpoint answered ${status}`,
            fix: 'keyless serve --status; recreate the container with keyless run',
          },
    );
  } else {
    out.push({
      id: 'container-credentials',
      title: `credentials endpoint from ${name}`,
      status: 'warn',
      found: 'no AWS_CONTAINER_CREDENTIALS_* variable',
      fix: `recreate it with keyless run --profile P -- ...`,
    });
  }
  const imds = env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  if (imds) out.push(judgeImdsProbe(imds, await probeIn(c.State.Pid, imds)));
  else
    out.push({
      id: 'container-imds',
      title: `IMDSv2 from ${name}`,
      status: 'skip',
      found:
        'no AWS_EC2_METADATA_SERVICE_ENDPOINT in the container; doctor never probes 169.254.169.254 by itself',
    });
  return out;
}
