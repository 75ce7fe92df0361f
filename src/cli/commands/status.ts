// Registers `keyless status` and `keyless ui`: who holds which role right now. Bodies load lazily.
import { Option, type Command } from 'commander';
import { action } from '../action.js';

export function registerStatusCommands(program: Command): void {
  program
    .command('status')
    .description(
      'the running credential server: its leases (role, expiry, next refresh, last STS error) and clients (container, address, role, requests, bound or revoked); never a secret',
    )
    .option('--json', 'JSON (docs/schemas/status.v1.schema.json); with --watch one snapshot per line')
    .option('--watch', 'stay and show each change as it happens (Ctrl-C to stop)')
    .addHelpText(
      'after',
      "\nExamples:\n  keyless status\n  keyless status --watch\n  keyless status --json | jq '.clients[] | {tag, role, state}'",
    )
    .action(
      action(async (flags: { json?: boolean; watch?: boolean }) => {
        const { runStatus } = await import('./status/run.js');
        return runStatus(flags);
      }),
    );
  program
    .command('ui')
    .description(
      'a local web page with the same live view, plus revoke a client, refresh a lease, stop the server and a filterable audit log',
    )
    .option('--no-open', 'only print the address; do not open a browser')
    .addOption(new Option('--port <port>', 'port on 127.0.0.1').default('0', 'a free one'))
    .addHelpText(
      'after',
      '\nThe page listens on 127.0.0.1 only. The printed address carries a one-time login token; opening it\n' +
        'sets an HttpOnly, SameSite=Strict session cookie and the token stops working. Ctrl-C ends the page.\n' +
        '\nExample:\n  keyless ui --no-open',
    )
    .action(
      action(async (flags: { open: boolean; port: string }) => {
        const { runUi } = await import('./status/ui.js');
        return runUi(flags);
      }),
    );
}
