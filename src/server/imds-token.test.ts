import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImdsTokens, parseTokenTtl } from './imds-token.js';

const SUBJECT = 'ab'.repeat(32);

test('a token carries the client it was issued to; without one its subject is empty', () => {
  const tokens = new ImdsTokens();
  const now = 1_000_000;
  assert.deepEqual(tokens.check(tokens.mint(60, now, SUBJECT), now), { subject: SUBJECT });
  assert.deepEqual(tokens.check(tokens.mint(60, now), now), { subject: '' });
  assert.equal(tokens.check(tokens.mint(60, now, SUBJECT), now + 60_000), undefined, 'expired');
});

test('a token whose subject was changed, or signed by another server, is refused', () => {
  const tokens = new ImdsTokens();
  const now = 5_000;
  const token = tokens.mint(60, now, SUBJECT);
  const parts = token.split('.');
  parts[2] = 'cd'.repeat(32);
  assert.equal(tokens.check(parts.join('.'), now), undefined, 'subject swapped');
  const bare = tokens.mint(60, now);
  const [expiry, nonce, sig] = bare.split('.');
  assert.equal(tokens.check(`${expiry}.${nonce}.${SUBJECT}.${sig}`, now), undefined, 'subject added');
  assert.equal(new ImdsTokens().check(token, now), undefined, 'another key');
  assert.throws(() => tokens.mint(60, now, 'not-a-hash'));
});

test('TTL header: whole seconds 1..21600', () => {
  assert.equal(parseTokenTtl('21600'), 21600);
  assert.equal(parseTokenTtl('0'), undefined);
  assert.equal(parseTokenTtl('21601'), undefined);
  assert.equal(parseTokenTtl(['1']), undefined);
});
