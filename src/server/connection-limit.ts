// Connection caps: per source address, and in total below the open-file limit, so that a flood of
// (idle) connections from one address cannot starve another (issue 21.12). Over the cap a new
// connection is closed at once; the ones already open are untouched.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

export const DEFAULT_PER_ADDRESS = 128;

/** The soft open-file limit (Linux /proc), else 1024. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m?.[1] === 'unlimited') return 1 << 20;
    if (m?.[1]) return Number(m[1]);
  } catch {
    // not Linux
  }
  return 1024;
}

export interface ConnectionLimiter {
  /** true when the connection may stay; false: it was destroyed */
  admit(socket: Socket, address: string): boolean;
  open(): number;
  refused(): number;
}

export function connectionLimiter(
  perAddress = DEFAULT_PER_ADDRESS,
  total = Math.max(64, Math.min(16_384, openFileLimit() - 128)),
): ConnectionLimiter {
  const byAddress = new Map<string, number>();
  let open = 0;
  let refused = 0;
  return {
    admit(socket, address) {
      const n = byAddress.get(address) ?? 0;
      if (n >= perAddress || open >= total) {
        refused++;
        socket.destroy();
        return false;
      }
      byAddress.set(address, n + 1);
      open++;
      socket.once('close', () => {
        open--;
        const left = (byAddress.get(address) ?? 1) - 1;
        if (left <= 0) byAddress.delete(address);
        else byAddress.set(address, left);
      });
      return true;
    },
    open: () => open,
    refused: () => refused,
  };
}
