// A Docker events subscription that survives the engine going away: when the stream ends or cannot be
// opened (dockerd restarted, the socket gone for a while), it is opened again with a growing delay
// (up to maxDelayMs), and onConnect runs after every (re)connection so the caller can reconcile what
// it missed meanwhile. Events are handed over one parsed JSON object at a time.
import type { IncomingMessage } from 'node:http';
import type { DockerClient } from './client.js';
import { onLines } from '../../util/lines.js';

export interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
}

export interface EventFollowOptions {
  /** Docker's /events filters (type, event, label, ...) */
  filters: Record<string, string[]>;
  onEvent: (event: EngineEvent) => void;
  /** after each connection: `again` is false the first time, true after a lost stream */
  onConnect?: (again: boolean) => void | Promise<void>;
  log?: (line: string) => void;
  /** first retry delay (default 500 ms), doubled up to maxDelayMs (default 10 s) */
  minDelayMs?: number;
  maxDelayMs?: number;
  /**
   * an engine that accepts the connection but does not answer (a hung dockerd, a stuck proxy) is given
   * up on after this long and tried again, instead of being waited on for ever (default 15 s)
   */
  answerTimeoutMs?: number;
}

export interface EventFollower {
  /** whether the stream is open now (while it is not, events may be missed) */
  connected(): boolean;
  stop(): void;
}

/**
 * Opens the stream (rejecting when the first attempt fails, so a caller learns at once that the
 * engine is unreachable), then keeps it open until stop().
 */
export async function followEngineEvents(
  client: DockerClient,
  options: EventFollowOptions,
): Promise<EventFollower> {
  const log = options.log ?? (() => undefined);
  const minDelay = options.minDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 10_000;
  let stopped = false;
  let current: IncomingMessage | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delay = minDelay;
  let everConnected = false;

  const open = async (): Promise<void> => {
    const res = await client.stream('GET', '/events', {
      query: { filters: JSON.stringify(options.filters) },
      answerTimeoutMs: options.answerTimeoutMs ?? 15_000,
    });
    if (stopped) {
      res.destroy();
      return;
    }
    // the delay starts over only once a stream has stayed up a while (an engine that accepts and
    // closes at once is retried ever more slowly, not every minDelay)
    const stable = setTimeout(() => (delay = minDelay), 10_000);
    stable.unref();
    res.once('close', () => clearTimeout(stable));
    onLines(res, (line) => {
      let ev: EngineEvent;
      try {
        ev = JSON.parse(line) as EngineEvent;
      } catch {
        return; // a foreign line
      }
      options.onEvent(ev);
    });
    let lost = false;
    const onLost = (why: string): void => {
      if (lost) return;
      lost = true;
      if (current === res) current = undefined;
      if (stopped) return;
      log(`docker events: ${why}; following them again`);
      delay = Math.min(delay * 2, maxDelay);
      schedule();
    };
    res.on('error', (err) => onLost(err.message));
    res.on('end', () => onLost('the engine closed the stream'));
    res.on('close', () => onLost('the stream closed'));
    const again = everConnected;
    try {
      await options.onConnect?.(again);
    } catch (err) {
      // what was missed could not be put right: not followed yet; the stream is opened again
      if (!everConnected) {
        // the first connection: the caller learns it (and nothing retries behind its back)
        stopped = true;
        res.destroy();
        throw err;
      }
      log(`docker events: after connecting: ${(err as Error).message}`);
      res.destroy();
      return;
    }
    everConnected = true;
    // followed only now: events since the stream opened were handled, and what was missed before it
    if (!lost) current = res;
  };

  const schedule = (): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      open().catch((err: Error) => {
        const before = delay;
        delay = Math.min(delay * 2, maxDelay);
        // said once when the retries settle at their slowest, not every time
        if (delay === maxDelay && before !== maxDelay)
          log(`docker events: ${err.message}; retrying every ${maxDelay / 1000} s`);
        schedule();
      });
    }, delay);
    timer.unref();
  };

  await open();
  return {
    connected: () => current !== undefined,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      current?.destroy();
      current = undefined;
    },
  };
}
