// The Swarm agent has no event stream: while a page is open, keyless ui reads its status socket every
// two seconds and passes on what changed. With no page open it reads nothing.
import type { SwarmAgentStatus } from '../server/status-types.js';

export type AgentListener = (agent: SwarmAgentStatus | null) => void;

export class AgentPoller {
  private readonly listeners = new Set<AgentListener>();
  private timer: NodeJS.Timeout | undefined;
  private last = 'null';
  private latest: SwarmAgentStatus | null = null;

  constructor(
    private readonly read: () => Promise<SwarmAgentStatus | undefined>,
    private readonly intervalMs = 2000,
  ) {}

  /** Adds a page: it gets the agent's status now (null when none runs), then each change. */
  async add(listener: AgentListener): Promise<() => void> {
    this.listeners.add(listener);
    if (this.listeners.size === 1) {
      await this.poll(false);
      this.timer = setInterval(() => void this.poll(true), this.intervalMs);
    }
    listener(this.latest);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  private async poll(broadcast: boolean): Promise<void> {
    const agent = (await this.read().catch(() => undefined)) ?? null;
    const key = JSON.stringify(agent);
    if (key === this.last) return;
    this.last = key;
    this.latest = agent;
    if (broadcast) for (const l of [...this.listeners]) l(agent);
  }
}
