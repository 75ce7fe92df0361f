import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { composeReport } from './run.js';
import { browserOpener } from './ui.js';
import type { StatusSnapshot, SwarmAgentStatus } from '../../../server/status-types.js';

const server: StatusSnapshot = {
  version: 1,
  generatedAt: '2026-01-01T00:00:00.000Z',
  server: {
    pid: 1,
    mode: 'host',
    listen: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    uptimeSeconds: 0,
    imds: false,
  },
  leases: [],
  clients: [],
};
const agent: SwarmAgentStatus = {
  pid: 2,
  listen: '169.254.170.2:80',
  startedAt: '2026-01-01T00:00:00.000Z',
  tasks: [],
};

describe(composeReport.name, () => {
  test('puts the agent beside the server, or alone with its own time', () => {
    assert.deepEqual(composeReport(server, undefined), server);
    assert.deepEqual(composeReport(server, agent), { ...server, swarm: agent });
    assert.deepEqual(composeReport(undefined, agent, Date.parse('2026-01-02T00:00:00Z')), {
      version: 1,
      generatedAt: '2026-01-02T00:00:00.000Z',
      swarm: agent,
    });
  });
});

describe(browserOpener.name, () => {
  test('opens a browser only where there is a desktop', () => {
    assert.deepEqual(browserOpener('darwin', {}), ['open']);
    assert.deepEqual(browserOpener('linux', { DISPLAY: ':0' }), ['xdg-open']);
    assert.deepEqual(browserOpener('linux', { WAYLAND_DISPLAY: 'wayland-0' }), ['xdg-open']);
    assert.equal(browserOpener('linux', {}), undefined);
    assert.equal(browserOpener('linux', { DISPLAY: '' }), undefined);
  });
});
