import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  imageRegistry,
  nextRefreshIn,
  registryAuthHeader,
  MIN_REFRESH_MS,
  MAX_REFRESH_MS,
} from './registry-auth.js';

describe('swarm registry auth (pure parts)', () => {
  test("an image's registry host, or none for Docker Hub names", () => {
    assert.equal(
      imageRegistry('123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1@sha256:ab'),
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    );
    assert.equal(imageRegistry('127.0.0.1:5000/team/app:2'), '127.0.0.1:5000');
    assert.equal(imageRegistry('localhost/app'), 'localhost');
    assert.equal(imageRegistry('library/nginx:1'), undefined);
    assert.equal(imageRegistry('nginx'), undefined);
  });

  test('the header is padded URL-safe base64 of the auth JSON, as the docker CLI sends it', () => {
    const h = registryAuthHeader({ username: 'AWS', secret: 'p>?~/+', expiresAt: 0 }, '127.0.0.1:5000');
    assert.ok(!/[+/]/.test(h));
    assert.equal(h.length % 4, 0);
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), {
      username: 'AWS',
      password: 'p>?~/+',
      serveraddress: '127.0.0.1:5000',
    });
  });

  test('the next refresh comes halfway to the earliest expiry, bounded, and soon after a failure', () => {
    const now = 1_000_000;
    assert.equal(
      nextRefreshIn([{ service: 'a', registry: 'r', expiresAt: now + 12 * 3600_000 }], now),
      6 * 3600_000,
    );
    assert.equal(
      nextRefreshIn(
        [
          { service: 'a', registry: 'r', expiresAt: now + 60_000 },
          { service: 'b', registry: 'r', expiresAt: now + 3600_000 },
        ],
        now,
      ),
      30_000,
    );
    assert.equal(
      nextRefreshIn([{ service: 'a', registry: 'r', expiresAt: now + 1000 }], now),
      MIN_REFRESH_MS,
    );
    assert.equal(nextRefreshIn([], now), MAX_REFRESH_MS);
    assert.equal(nextRefreshIn([{ service: 'a', registry: 'r', error: 'x' }], now), 30_000);
    // a failure while the held token has 40 s left: retry in 10 s, not 30
    assert.equal(
      nextRefreshIn([{ service: 'a', registry: 'r', error: 'x' }], now, new Map([['a', now + 40_000]])),
      10_000,
    );
  });
});
