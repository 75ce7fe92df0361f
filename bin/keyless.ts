#!/usr/bin/env node

// `keyless --help | head`: a closed pipe is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const args = process.argv.slice(2);
if (args.length === 2 && args[0] === 'completion' && args[1] === '--profiles') {
  // asked on every Tab by the completion scripts: the profile names, without loading the command table
  const { completionProfiles } = await import('../src/cli/commands/completion/profiles.js');
  process.stdout.write((await completionProfiles()).map((p) => `${p}\n`).join(''));
} else {
  const { main } = await import('../src/cli/main.js');
  process.exitCode = await main();
}
