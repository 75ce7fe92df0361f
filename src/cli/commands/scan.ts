// Registers `keyless scan`. The body is imported lazily.
import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from '../action.js';

export interface ScanFlags {
  format: string;
  output?: string;
  failOn: string;
  baseline?: string;
  writeBaseline?: string;
  verify?: boolean;
  verifySignin?: boolean;
  verifyProfile?: string;
  kind: string;
  exclude?: string[];
  quiet?: boolean;
}

export function registerScanCommands(program: Command): void {
  program
    .command('scan')
    .description(
      'find AWS credentials in Dockerfiles, compose files, directories, images (every layer) and containers',
    )
    .argument('<target...>', 'paths, image references (or docker-save .tar files) and container ids or names')
    .addOption(
      new Option('--format <format>', 'report format').choices(['text', 'json', 'sarif']).default('text'),
    )
    .option('--output <file>', 'write the report to FILE instead of stdout')
    .addOption(
      new Option('--fail-on <level>', 'exit 1 when a finding is at or above this severity')
        .choices(['info', 'low', 'medium', 'high', 'critical', 'never'])
        .default('high'),
    )
    .option('--baseline <file>', 'accept the findings listed in this baseline file (from --write-baseline)')
    .option('--write-baseline <file>', 'write the current findings as a baseline')
    .option(
      '--verify',
      "whose keys they are: sts:GetAccessKeyInfo for each found key id, signed with YOUR credentials (--verify-profile, default AWS_PROFILE), never with the found key, so nothing reaches the key's owner; says whether the account is one of yours",
    )
    .option(
      '--verify-profile <profile>',
      'the profile whose credentials --verify uses (default AWS_PROFILE, then "default")',
    )
    .option(
      '--verify-signin',
      "check found key pairs by signing sts:GetCallerIdentity WITH THE FOUND KEY: shows whether it is live, but the call is visible to the key's owner (CloudTrail, canary tokens). Off by default",
    )
    .addOption(
      new Option('--kind <kind>', 'force the target kind')
        .choices(['auto', 'dockerfile', 'compose', 'dir', 'file', 'archive', 'image', 'container'])
        .default('auto'),
    )
    .option('--exclude <pattern...>', 'extra .dockerignore-style patterns for directories')
    .option('-q, --quiet', 'no progress bar')
    .addHelpText(
      'after',
      '\nExamples:\n  keyless scan .\n  keyless scan myimage:latest --format sarif --output keyless.sarif\n  keyless scan Dockerfile docker-compose.yml --fail-on medium\n\nA line with "keyless:ignore" is never reported.\n\nProgress: scanning an image (archive, OCI layout or image by reference) draws a\nprogress bar on stderr when stderr is a terminal, erased when the scan ends;\nnever with --quiet, KEYLESS_NO_PROGRESS=1, CI set (as CI services do) or\nTERM=dumb. stdout carries only the report.\n\nBinary files are scanned too: a finding there gives a byte offset, not a line.\nAn archive on disk is mapped (read in place); KEYLESS_SCAN_MMAP=0 reads it instead\n(a file truncated while it is mapped ends the process with SIGBUS, as with ripgrep).',
    )
    .action(
      action(async (targets: string[], flags: ScanFlags) => {
        const { runScan } = await import('./scan/run.js');
        return runScan(targets, flags);
      }),
    );
}
