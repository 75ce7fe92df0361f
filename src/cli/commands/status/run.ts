// Body of `keyless status`: the running server's leases and clients, once or live (--watch), as text or
// JSON (docs/schemas/status.v1.schema.json). Read over the control socket; never a secret.
import { loadEnv } from '../../../config/env.js';
import { keylessPaths } from '../../../config/paths.js';
import { statusClient } from '../../../server/status-client.js';
import { output } from '../../output.js';
import type { ExitCode } from '../../action.js';
import { renderStatus } from './render.js';

export interface StatusFlags {
  json?: boolean;
  watch?: boolean;
}

export async function runStatus(flags: StatusFlags): Promise<ExitCode> {
  const client = statusClient(keylessPaths(loadEnv().keylessHome).controlSocket);
  if (!flags.watch) {
    const s = await client.snapshot();
    if (flags.json) output.json(s);
    else output.data(renderStatus(s));
    return 0;
  }
  const tty = Boolean(process.stdout.isTTY) && !flags.json;
  const sub = await client.subscribe((event) => {
    if (event.type === 'snapshot') {
      // --json --watch: one snapshot per line (NDJSON)
      if (flags.json) process.stdout.write(`${JSON.stringify(event.snapshot)}\n`);
      else output.data(`${tty ? '\x1b[2J\x1b[H' : ''}${renderStatus(event.snapshot)}`);
    } else if (event.type === 'stopping') output.info('keyless status: the server is stopping');
  });
  const stop = (): void => sub.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await sub.ended;
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  return 0;
}
