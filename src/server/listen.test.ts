import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { isKeylessError } from '../errors.js';
import { listenOn } from './index.js';

test('a taken address names the option of the command that asked for it', async (t) => {
  const first = createServer();
  const { port } = await listenOn(first, { host: '127.0.0.1', port: 0 });
  t.after(() => first.close());
  const taken = (pattern: RegExp) => (err: unknown) =>
    isKeylessError(err) && err.code === 'SERVER_ADDRESS_IN_USE' && pattern.test(err.message);
  await assert.rejects(
    listenOn(createServer(), { host: '127.0.0.1', port }),
    taken(/choose another --listen/),
  );
  await assert.rejects(
    listenOn(createServer(), { host: '127.0.0.1', port }, 'Choose another --port.'),
    taken(new RegExp(`^127\\.0\\.0\\.1:${port} is already in use\\. Choose another --port\\.$`)),
  );
});
