// Body of `keyless status`: the running server's leases and clients, and the Swarm agent's tasks when
// an agent runs, once or live (--watch), as text or JSON (docs/schemas/status.v1.schema.json). Read
// over the control socket and the agent's status socket; never a secret.
import { loadEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { readAgentStatus } from '../../../docker/swarm/agent-status.js';
import { statusClient, type StatusSubscription } from '../../../server/status-client.js';
import { notRunningIsAnAnswer } from '../../../server/control-socket.js';
import {
  STATUS_VERSION,
  type StatusReport,
  type StatusSnapshot,
  type SwarmAgentStatus,
} from '../../../server/status-types.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import { renderStatus } from './render.js';

export interface StatusFlags {
  json?: boolean;
  watch?: boolean;
}

/** how often --watch looks at the Swarm agent (it has no event stream) */
const AGENT_POLL_MS = 2000;

/** The server's snapshot with the agent's tasks beside it (either may be missing, not both). */
export function composeReport(
  server: StatusSnapshot | undefined,
  agent: SwarmAgentStatus | undefined,
  now = Date.now(),
): StatusReport {
  const base: StatusReport = server ?? { version: STATUS_VERSION, generatedAt: new Date(now).toISOString() };
  return agent ? { ...base, swarm: agent } : base;
}

export async function runStatus(flags: StatusFlags): Promise<ExitCode> {
  const paths = keylessPaths(loadEnv().keylessHome);
  const client = statusClient(paths.controlSocket);
  const [server, agent] = await Promise.all([
    client.snapshot().catch((err: Error) => err),
    readAgentStatus(paths.swarmAgentSocket),
  ]);
  // no server and no agent: the server's error says what to do
  if (server instanceof Error && !agent) throw notRunningIsAnAnswer(server);
  const show = (report: StatusReport, live: boolean): void => {
    if (flags.json) {
      if (live) process.stdout.write(`${JSON.stringify(report)}\n`);
      else output.json(report);
    } else {
      const clear = live && process.stdout.isTTY ? '\x1b[2J\x1b[H' : '';
      output.data(`${clear}${renderStatus(report)}`);
    }
  };
  if (!flags.watch) {
    show(composeReport(server instanceof Error ? undefined : server, agent), false);
    return 0;
  }
  // --watch: the server pushes its changes; the agent is looked at every 2 s
  let latest = server instanceof Error ? undefined : server;
  let latestAgent = agent;
  let sub: StatusSubscription | undefined;
  if (!(server instanceof Error))
    sub = await client.subscribe((event) => {
      if (event.type === 'snapshot') {
        latest = event.snapshot;
        show(composeReport(latest, latestAgent), true);
      } else if (event.type === 'stopping') output.info('keyless status: the server is stopping');
    });
  else show(composeReport(undefined, agent), true);
  let poll: NodeJS.Timeout | undefined;
  if (agent)
    poll = setInterval(() => {
      void readAgentStatus(paths.swarmAgentSocket).then((a) => {
        if (JSON.stringify(a) === JSON.stringify(latestAgent)) return;
        latestAgent = a;
        show(composeReport(latest, latestAgent), true);
      });
    }, AGENT_POLL_MS);
  await new Promise<void>((done) => {
    const stop = (): void => done();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void sub?.ended.then(stop);
  });
  if (poll) clearInterval(poll);
  sub?.close();
  return 0;
}
