import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDuration, renderStatus, renderWhen } from './render.js';

describe(renderStatus.name, () => {
  test('durations and relative times read as a person would say them', () => {
    assert.equal(renderDuration(42_000), '42s');
    assert.equal(renderDuration(5 * 60_000), '5m');
    assert.equal(renderDuration(2 * 3600_000 + 5 * 60_000), '2h05m');
    assert.equal(renderDuration(-5), '0s');
    assert.equal(renderWhen('2026-01-01T00:10:00Z', Date.parse('2026-01-01T00:00:00Z')), 'in 10m');
    assert.equal(renderWhen('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:00:03Z')), '3s ago');
    assert.equal(renderWhen(undefined, 0), '-');
  });

  test('one line for the server, one row per lease and client, the revocation reason', () => {
    const text = renderStatus({
      version: 1,
      generatedAt: '2026-01-01T00:00:00.000Z',
      server: {
        pid: 7,
        mode: 'host',
        listen: ['169.254.170.2:80'],
        startedAt: '2025-12-31T23:00:00.000Z',
        uptimeSeconds: 3600,
        imds: false,
        network: 'keyless',
      },
      leases: [
        {
          id: 'aaaaaaaaaaaa',
          role: 'arn:aws:iam::1:role/r',
          profile: 'app',
          accessKeyId: 'ASIA…WXYZ',
          expiresAt: '2026-01-01T01:00:00.000Z',
          nextRefreshAt: '2026-01-01T00:25:00.000Z',
          refreshing: false,
          refreshes: 1,
          clients: 1,
          lastError: 'ExpiredToken',
        },
      ],
      clients: [
        {
          tag: 'bbbbbbbbbbbb',
          kind: 'container',
          state: 'bound',
          container: { id: 'c1', name: 'web', image: 'local/web:1' },
          address: '169.254.170.3',
          role: 'arn:aws:iam::1:role/r',
          requests: 12,
          refused: 0,
          lastRequestAt: '2025-12-31T23:59:58.000Z',
        },
        {
          tag: 'cccccccccccc',
          kind: 'container',
          state: 'revoked',
          revokedReason: 'container die',
          container: { id: 'c2' },
          role: 'r',
          requests: 1,
          refused: 3,
        },
      ],
    });
    assert.match(
      text,
      /^server {2}pid 7, host mode, listening on 169\.254\.170\.2:80, up 1h00m, network keyless$/m,
    );
    assert.match(
      text,
      /aaaaaaaaaaaa +arn:aws:iam::1:role\/r +app +ASIA…WXYZ +in 1h00m +in 25m +1 +ExpiredToken$/m,
    );
    assert.match(
      text,
      /bbbbbbbbbbbb +web \(local\/web:1\) +169\.254\.170\.3 +arn:aws:iam::1:role\/r +bound +- +- +2s ago +12 +0$/m,
    );
    assert.match(text, /cccccccccccc {2}c2 .* revoked \(container die\)/);
  });
  test('the Swarm agent and its tasks, with or without a server', () => {
    const text = renderStatus({
      version: 1,
      generatedAt: '2026-01-01T00:10:00.000Z',
      swarm: {
        pid: 99,
        listen: '169.254.170.2:80',
        startedAt: '2026-01-01T00:00:00.000Z',
        tasks: [
          {
            task: 'k3x9c0task000000000000000',
            service: 'web',
            address: '10.0.1.7',
            role: 'arn:aws:iam::1:role/web',
            accessKeyId: 'ASIA…WXYZ',
            firstRequestAt: '2026-01-01T00:09:00.000Z',
            lastRequestAt: '2026-01-01T00:09:50.000Z',
            requests: 3,
            refused: 1,
          },
        ],
      },
    });
    assert.match(text, /^server {2}not running for this KEYLESS_HOME$/m);
    assert.match(text, /^swarm agent {2}pid 99, listening on 169\.254\.170\.2:80, up 10m$/m);
    assert.match(
      text,
      /k3x9c0task00 +web +10\.0\.1\.7 +arn:aws:iam::1:role\/web +ASIA…WXYZ +- +1m ago +10s ago +3 +1$/m,
    );
  });
});
