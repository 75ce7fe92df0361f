import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientActivity } from './client-activity.js';

describe(ClientActivity.name, () => {
  test('folds audit batches into first and last request, count and refusals per client', () => {
    const a = new ClientActivity();
    assert.equal(
      a.apply([
        {
          time: '2026-01-01T00:00:01.000Z',
          until: '2026-01-01T00:00:02.000Z',
          client: 'aaaaaaaaaaaa',
          source: '10.0.0.2',
          outcome: 'ok',
          count: 5,
        },
        { time: '2026-01-01T00:00:03.000Z', outcome: 'not-itemised', count: 9 },
      ]),
      true,
    );
    a.apply([
      {
        time: '2026-01-01T00:00:04.000Z',
        client: 'aaaaaaaaaaaa',
        source: '10.0.0.9',
        outcome: 'unknown-client',
        count: 2,
      },
    ]);
    assert.deepEqual(a.get('aaaaaaaaaaaa'), {
      first: Date.parse('2026-01-01T00:00:01.000Z'),
      last: Date.parse('2026-01-01T00:00:04.000Z'),
      requests: 5,
      refused: 2,
      address: '10.0.0.9',
    });
    assert.equal(a.apply([{ time: '2026-01-01T00:00:05.000Z', outcome: 'unauthorized' }]), false);
  });
});
