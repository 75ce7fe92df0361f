import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideMode, parseEndpointMode, type ModeFacts } from './mode.js';

const rootLocal: ModeFacts = {
  root: true,
  localSocket: true,
  rootless: false,
  desktop: false,
  bridgeHere: true,
};

test('auto keeps the host mode only for root next to a rootful local engine', () => {
  assert.equal(decideMode(rootLocal).mode, 'host');
  const cases: [Partial<ModeFacts>, RegExp][] = [
    [{ root: false }, /not root/],
    [{ localSocket: false }, /over the network/],
    [{ rootless: true }, /rootless/],
    [{ desktop: true }, /Docker Desktop/],
    [{ bridgeHere: false }, /not in this network namespace/],
  ];
  for (const [change, reason] of cases) {
    const d = decideMode({ ...rootLocal, ...change });
    assert.equal(d.mode, 'container', JSON.stringify(change));
    assert.match(d.reason, reason);
  }
});

test('--endpoint values', () => {
  assert.equal(parseEndpointMode(undefined), 'auto');
  assert.equal(parseEndpointMode('container'), 'container');
  assert.throws(() => parseEndpointMode('vm'), /must be auto, host or container, got "vm"/);
  assert.throws(
    () => parseEndpointMode('x'.repeat(5000)),
    (e: Error) => e.message.length < 200,
  );
});
