// Body of `keyless ui`: starts the page on 127.0.0.1, prints its one-time login address, opens a
// browser unless --no-open, and runs until Ctrl-C or until the credential server stops.
import { spawn } from 'node:child_process';
import { loadEnv, nonEmpty } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { usageError } from '../../../errors.js';
import { readAgentStatus } from '../../../docker/swarm/agent-status.js';
import { statusClient } from '../../../server/status-client.js';
import { startUiServer } from '../../../ui/server.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';

export interface UiFlags {
  open: boolean;
  port: string;
}

/** The command that opens a URL in the desktop's browser, when there is a desktop. */
export function browserOpener(
  platform: NodeJS.Platform,
  vars: Record<string, string | undefined>,
): string[] | undefined {
  if (platform === 'darwin') return ['open'];
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler'];
  if (nonEmpty(vars.DISPLAY) || nonEmpty(vars.WAYLAND_DISPLAY)) return ['xdg-open'];
  return undefined;
}

export async function runUi(flags: UiFlags): Promise<ExitCode> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usageError(`--port must be 0 to 65535, got "${flags.port}".`);
  const env = loadEnv();
  const paths = keylessPaths(env.keylessHome);
  const client = statusClient(paths.controlSocket);
  const agentStatus = () => readAgentStatus(paths.swarmAgentSocket);
  // fails early, with the usual message, when neither a server nor a Swarm agent runs
  const [server, agent] = await Promise.all([client.snapshot().catch((err: Error) => err), agentStatus()]);
  if (server instanceof Error && !agent) throw server;
  const ui = await startUiServer({ status: client, agentStatus, port, log: (l) => output.info(l) });
  output.data(ui.loginUrl);
  output.info(
    'keyless ui: open the address above once (it logs you in and then stops working); Ctrl-C ends the page',
  );
  const opener = flags.open ? browserOpener(process.platform, env.vars) : undefined;
  if (opener) {
    const [cmd, ...args] = opener as [string, ...string[]];
    const child = spawn(cmd, [...args, ui.loginUrl], { stdio: 'ignore', detached: true });
    child.on('error', () => output.info(`keyless ui: could not start ${cmd}; open the address yourself`));
    child.unref();
  }
  await new Promise<void>((done) => {
    process.once('SIGINT', () => done());
    process.once('SIGTERM', () => done());
    void ui.serverGone.then(() => {
      output.info('keyless ui: the credential server stopped');
      // let the pages receive the news before the page server goes
      setTimeout(done, 500);
    });
  });
  await ui.close();
  return 0;
}
