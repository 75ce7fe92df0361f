// The ECS credentials address on a node: 169.254.170.2 is added on `lo` when the node has none (and
// taken away on exit). Where keyless run's bridge already holds it, the agent serves on it as is.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { networkInterfaces } from 'node:os';
import { KeylessError } from '../../errors.js';

const exec = promisify(execFile);

export function hasLocalAddress(address: string): boolean {
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === address));
}

/** Adds address/32 on lo when missing; returns a function that removes it again (a no-op if it was there). */
export async function ensureLinkLocalAddress(address: string): Promise<() => Promise<void>> {
  if (hasLocalAddress(address)) return async () => undefined;
  try {
    await exec('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo']);
  } catch (err) {
    throw new KeylessError(
      'SWARM_ADDRESS',
      `cannot add ${address} on lo (${String((err as { stderr?: string }).stderr ?? err).trim()}). ` +
        'The agent needs root or CAP_NET_ADMIN (the global service from `keyless swarm agent install` has it).',
    );
  }
  return async () => {
    await exec('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']).catch(() => undefined);
  };
}
