#!/usr/bin/env node
import { main } from '../src/cli/main.js';

// `keyless --help | head`: a closed pipe is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await main();
