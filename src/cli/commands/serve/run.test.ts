import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonStartFailure } from './run.js';

test("a daemon that did not start is reported with its own error, one period, and the log's path", () => {
  assert.equal(
    daemonStartFailure({ error: 'a keyless server already runs for /h (pid 1). Stop it.' }, '/h/server.log'),
    'the background server did not start: a keyless server already runs for /h (pid 1). Stop it. Its log: /h/server.log',
  );
  assert.equal(
    daemonStartFailure({ exit: 3 }, '/h/server.log'),
    'the background server did not start: it exited with status 3. Its log: /h/server.log',
  );
});
