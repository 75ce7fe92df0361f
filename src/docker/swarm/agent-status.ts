// The Swarm agent's status socket (unix, 0600 in a 0700 folder under $KEYLESS_HOME/swarm/): `keyless
// status` reads the agent's tasks from it. GET /status only; never a secret (key ids redacted).
import { createServer, request, type Server } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../../util/atomic-file.js';
import type { SwarmAgentStatus } from '../../server/status-types.js';

export async function startAgentStatusSocket(path: string, status: () => SwarmAgentStatus): Promise<Server> {
  await ensurePrivateDir(dirname(path));
  await rm(path, { force: true });
  const server = createServer((req, res) => {
    const ok = req.method === 'GET' && req.url === '/status';
    const body = JSON.stringify(ok ? status() : { error: 'unknown path' });
    res.writeHead(ok ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return server;
}

/** The agent's status, or undefined when no agent answers on this socket. */
export function readAgentStatus(path: string, timeoutMs = 2000): Promise<SwarmAgentStatus | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath: path, method: 'GET', path: '/status', timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 ? (JSON.parse(text) as SwarmAgentStatus) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
