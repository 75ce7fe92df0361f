// Connection caps: per source address, and in total below the open-file limit, so that a flood of
// (idle) connections from one address cannot starve another (issue 21.12). Over the cap a new
// connection is closed at once; the ones already open are untouched.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';

/** a host's SDK clients all come from 127.0.0.1: room for a busy machine, far below a flood */
export const DEFAULT_PER_ADDRESS = 1024;
/** an idle connection older than this may be closed to admit a new one from the same address */
const IDLE_EVICT_MS = 1_000;

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
  // per address, in admission order (oldest first), with the time each was admitted
  const byAddress = new Map<string, Map<Socket, number>>();
  let open = 0;
  let refused = 0;
  /** a connection with no request in flight (node:http keeps the pending response on the socket) */
  const idle = (s: Socket): boolean => !(s as Socket & { _httpMessage?: unknown })._httpMessage;
  return {
    admit(socket, address) {
      let set = byAddress.get(address);
      if (set && set.size >= perAddress) {
        // make room by closing this address's oldest idle connection, if one has idled a while
        const now = Date.now();
        for (const [s, since] of set)
          if (now - since > IDLE_EVICT_MS && idle(s)) {
            s.destroy();
            set.delete(s);
            open--;
            break;
          }
      }
      if ((set && set.size >= perAddress) || open >= total) {
        refused++;
        socket.destroy();
        return false;
      }
      if (!set) byAddress.set(address, (set = new Map()));
      set.set(socket, Date.now());
      open++;
      socket.once('close', () => {
        const s = byAddress.get(address);
        if (s?.delete(socket)) {
          open--;
          if (s.size === 0) byAddress.delete(address);
        }
      });
      return true;
    },
    open: () => open,
    refused: () => refused,
  };
}
