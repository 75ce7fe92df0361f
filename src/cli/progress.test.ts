import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadEnv } from '../config/env.js';
import { createStatusLine, progressEnabled } from './progress.js';

function fakeStream(columns?: number): { write(t: string): void; columns?: number; out: string[] } {
  const out: string[] = [];
  return { out, write: (t: string) => void out.push(t), ...(columns !== undefined ? { columns } : {}) };
}

describe('status line', () => {
  test('redraws in place with \\r, at most once per 100 ms, and erases the line at the end', () => {
    const stream = fakeStream(60);
    let now = 0;
    const line = createStatusLine(stream, { now: () => now });
    const widths: number[] = [];
    const render = (text: string) => (columns: number) => (widths.push(columns), text);
    line.update(render('one'));
    now = 50;
    line.update(render('skipped'));
    now = 99;
    line.update(render('skipped too'));
    now = 100;
    line.update(render('two'));
    now = 150;
    line.update(render('skipped'));
    line.clear();
    assert.deepEqual(stream.out, ['\rone\x1b[K', '\rtwo\x1b[K', '\r\x1b[K']);
    assert.deepEqual(widths, [60, 60], 'rendered only when drawn, for the terminal width');
  });

  test('nothing drawn, nothing erased; 80 columns when the width is unknown', () => {
    const stream = fakeStream();
    const line = createStatusLine(stream, { now: () => 0 });
    line.clear();
    assert.deepEqual(stream.out, []);
    let width = 0;
    line.update((c) => ((width = c), 'x'));
    assert.equal(width, 80);
  });
});

describe('when progress is shown', () => {
  const env = (vars: Record<string, string>) => loadEnv({ HOME: '/nonexistent', ...vars });
  test('on a terminal only, and never with --quiet, KEYLESS_NO_PROGRESS, CI or TERM=dumb', () => {
    assert.equal(progressEnabled({ isTTY: true, quiet: false, env: env({ TERM: 'xterm' }) }), true);
    assert.equal(progressEnabled({ isTTY: false, quiet: false, env: env({}) }), false);
    assert.equal(progressEnabled({ isTTY: true, quiet: true, env: env({}) }), false);
    assert.equal(
      progressEnabled({ isTTY: true, quiet: false, env: env({ KEYLESS_NO_PROGRESS: '1' }) }),
      false,
    );
    assert.equal(progressEnabled({ isTTY: true, quiet: false, env: env({ CI: 'true' }) }), false);
    assert.equal(progressEnabled({ isTTY: true, quiet: false, env: env({ TERM: 'dumb' }) }), false);
  });

  test('KEYLESS_NO_PROGRESS and CI count when set to anything but "", "0" or "false"', () => {
    for (const v of ['', '0', 'false', 'FALSE'])
      assert.equal(
        progressEnabled({ isTTY: true, quiet: false, env: env({ CI: v, KEYLESS_NO_PROGRESS: v }) }),
        true,
        v,
      );
    for (const v of ['1', 'true', 'yes'])
      assert.equal(progressEnabled({ isTTY: true, quiet: false, env: env({ CI: v }) }), false, v);
  });
});
