// Registers `keyless doctor`.
import type { Command } from 'commander';
import { action } from '../action.js';

export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description(
      'diagnose the host, containers and EC2 settings; each check is ok / warn / fail with the exact fix',
    )
    .option('--json', 'the documented JSON report (version 1)')
    .option(
      '--container <id>',
      'also check from inside this container: credentials endpoint and IMDSv2 (hop limit)',
    )
    .option('--instance-id <id>', "also read this EC2 instance's metadata options through the EC2 API")
    .option('--profile <profile>', 'credentials for the EC2 check (default AWS_PROFILE)')
    .option(
      '--clock',
      "also compare this host's clock with AWS's (one unsigned request to the STS endpoint; AWS refuses signatures 5 minutes off)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  keyless doctor\n  keyless doctor --container app --json\n' +
        '  keyless doctor --instance-id i-0123456789abcdef0 --profile ops --clock\n\nExit status 1 when any check fails.',
    )
    .action(
      action(
        async (opts: {
          json?: boolean;
          container?: string;
          instanceId?: string;
          profile?: string;
          clock?: boolean;
        }) => {
          const { loadEnv } = await import('../../config/env.js');
          const { runDoctor } = await import('../../doctor/index.js');
          const { output } = await import('../output.js');
          const r = await runDoctor(loadEnv(), opts);
          if (opts.json) output.json(r);
          else {
            for (const c of r.checks) {
              output.data(`${c.status.toUpperCase().padEnd(4)}  ${c.title}: ${c.found}`);
              if (c.fix && c.status !== 'ok') output.data(`      fix: ${c.fix}`);
            }
            output.data(`${r.summary.ok} ok, ${r.summary.warn} warn, ${r.summary.fail} fail`);
          }
          return r.summary.fail > 0 ? 1 : 0;
        },
      ),
    );
}
