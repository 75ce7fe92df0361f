import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentPoller } from './agent-poller.js';
import type { SwarmAgentStatus } from '../server/status-types.js';

const agent = (tasks: number): SwarmAgentStatus => ({
  pid: 1,
  listen: '169.254.170.2:80',
  startedAt: '2026-01-01T00:00:00.000Z',
  tasks: Array.from({ length: tasks }, (_, i) => ({
    task: `t${i}`,
    service: 's',
    address: '10.0.0.2',
    role: 'r',
    firstRequestAt: '2026-01-01T00:00:00.000Z',
    lastRequestAt: '2026-01-01T00:00:00.000Z',
    requests: 1,
    refused: 0,
  })),
});

describe(AgentPoller.name, () => {
  test('reads only while a page listens, and passes on changes only', async () => {
    let reads = 0;
    let current: SwarmAgentStatus | undefined = agent(0);
    const poller = new AgentPoller(async () => (reads++, current), 10);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(reads, 0, 'no page, no read');
    const seen: (SwarmAgentStatus | null)[] = [];
    const off = await poller.add((a) => seen.push(a));
    assert.equal(seen.length, 1);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(seen.length, 1, 'nothing changed, nothing sent');
    current = agent(1);
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(seen.length, 2);
    current = undefined;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(seen.at(-1), null, 'the agent went away');
    off();
    const before = reads;
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(reads, before, 'no page, no read');
  });
});
