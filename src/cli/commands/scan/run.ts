// Body of `keyless scan`.
import { readFile, stat } from 'node:fs/promises';
import { loadEnv, type KeylessEnv } from '../../../config/env.js';
import { KeylessError, usageError } from '../../../errors.js';
import { dockerClientFromEnv } from '../../../docker/engine/index.js';
import { renderJson, renderSarif, renderText } from '../../../scan/reports.js';
import { dedupeFindings, sortFindings } from '../../../scan/findings.js';
import {
  isOciLayout,
  scanContainer,
  scanDirectory,
  scanFile,
  scanImageRef,
  scanOciLayout,
  kindOfFile,
  type TargetScanOptions,
} from '../../../scan/targets.js';
import { ImageProgress, renderProgress } from '../../../scan/progress.js';
import { severityRank, type Finding, type Severity } from '../../../scan/types.js';
import { writeUserFile } from '../../../util/atomic-file.js';
import { output } from '../../output.js';
import { createStatusLine, progressEnabled, type StatusLine } from '../../progress.js';
import { keylessVersion } from '../../version.js';
import type { ExitCode } from '../../action.js';
import type { ScanFlags } from '../scan.js';

async function scanTarget(
  target: string,
  flags: ScanFlags,
  docker: () => ReturnType<typeof dockerClientFromEnv>,
  options: TargetScanOptions,
): Promise<Finding[]> {
  if (target.trim() === '')
    throw usageError('a scan target is empty (an unset variable?): name a path, an image or a container.');
  const kind = flags.kind;
  const st = await stat(target).catch(() => undefined);
  if (kind === 'image') return scanImageRef(docker(), target, options);
  if (kind === 'container') return scanContainer(docker(), target);
  if (st?.isDirectory())
    return (await isOciLayout(target))
      ? scanOciLayout(target, options)
      : scanDirectory(target, flags.exclude ?? []);
  if (st?.isFile())
    return scanFile(
      target,
      kind === 'auto' ? kindOfFile(target) : (kind as ReturnType<typeof kindOfFile>),
      options,
    );
  // an image reference or container name never starts with / . or ~: that is a path that is not there
  if (st === undefined && /^[/.~]/.test(target))
    throw new KeylessError(
      'SCAN_TARGET_NOT_FOUND',
      `${target}: no such file or directory. Check the path (image references and container names do not start with / . or ~).`,
    );
  // not a path: a container by id or name, else an image by reference
  const client = docker();
  try {
    return await scanContainer(client, target);
  } catch (err) {
    if ((err as { code?: string }).code === 'DOCKER_UNREACHABLE') throw err;
  }
  try {
    return await scanImageRef(client, target, options);
  } catch (err) {
    if ((err as { code?: string }).code === 'DOCKER_NOT_FOUND') {
      throw new KeylessError(
        'SCAN_TARGET_NOT_FOUND',
        `"${target}" is not a file, directory, container or local image. Check the name (images must be pulled first).`,
      );
    }
    throw err;
  }
}

/**
 * --verify: whose key each found key id is, asked with the user's own credentials (never the found
 * key): sts:GetAccessKeyInfo names the account (logged in the caller's CloudTrail, not the owner's),
 * and the account is "yours" when it is the one of the user's credentials or of a role in ~/.aws/config.
 */
async function verifyOwners(
  findings: Finding[],
  env: KeylessEnv,
  profile: string | undefined,
): Promise<void> {
  const ids = new Map<string, Finding[]>();
  for (const f of findings) {
    const id = f.rawKeyId ?? f.secretPair?.accessKeyId;
    if (id) ids.set(id, [...(ids.get(id) ?? []), f]);
  }
  if (ids.size === 0) return;
  const { awsClientConfig } = await import('../../../aws/client-config.js');
  const { STSClient, GetCallerIdentityCommand, GetAccessKeyInfoCommand } =
    await import('@aws-sdk/client-sts');
  const { createCredentialSource } = await import('../../../sources/index.js');
  const { readProfileFiles } = await import('../../../sources/read-profile-files.js');
  const name = profile ?? env.awsProfile ?? 'default';
  const source = await createCredentialSource({ profile: name }, { env });
  let mine: Set<string>;
  const sts = new STSClient(awsClientConfig(env, { service: 'STS', credentials: await source() }));
  try {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    mine = new Set(me.Account ? [me.Account] : []);
    for (const settings of (await readProfileFiles(env)).config.values()) {
      const a = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(settings.role_arn ?? '')?.[1];
      if (a) mine.add(a);
    }
    for (const [id, fs] of ids) {
      const info = await sts.send(new GetAccessKeyInfoCommand({ AccessKeyId: id })).catch(() => undefined);
      if (!info?.Account) continue;
      for (const f of fs) {
        f.account = info.Account;
        f.owner = mine.has(info.Account) ? 'yours' : 'not-yours';
      }
    }
  } catch (err) {
    throw new KeylessError(
      'SCAN_VERIFY_FAILED',
      `--verify asks STS with your credentials (profile ${name}) and that failed: ${(err as Error).message}. Pick a profile with --verify-profile.`,
    );
  } finally {
    sts.destroy();
    await source.dispose();
  }
}

/** --verify-signin: signs sts:GetCallerIdentity with the found key itself (visible to its owner). */
async function verify(findings: Finding[], env: KeylessEnv): Promise<void> {
  const { awsClientConfig } = await import('../../../aws/client-config.js');
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  for (const f of findings) {
    if (!f.secretPair) continue;
    // only to STS (AWS_ENDPOINT_URL honoured), never anywhere else
    const sts = new STSClient({
      ...awsClientConfig(env, { service: 'STS', region: 'us-east-1', credentials: f.secretPair }),
      maxAttempts: 1,
    });
    try {
      await sts.send(new GetCallerIdentityCommand({}));
      f.verified = 'live';
      f.severity = 'critical';
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      f.verified = /InvalidClientTokenId|SignatureDoesNotMatch|AccessDenied/.test(name)
        ? 'invalid'
        : 'unknown';
    } finally {
      sts.destroy();
    }
  }
}

/** Image progress drawn on stderr, when progressEnabled says so (a terminal, no --quiet, no CI). */
function imageProgress(flags: ScanFlags, env: KeylessEnv): { options: TargetScanOptions; line?: StatusLine } {
  if (!progressEnabled({ isTTY: process.stderr.isTTY === true, quiet: flags.quiet === true, env }))
    return { options: {} };
  const line = createStatusLine(process.stderr);
  return {
    line,
    options: {
      progress: (label, totals) =>
        new ImageProgress(label, {
          ...totals,
          onUpdate: (snapshot) => line.update((columns) => renderProgress(snapshot, columns)),
        }),
    },
  };
}

export async function runScan(targets: string[], flags: ScanFlags): Promise<ExitCode> {
  const env = loadEnv();
  let client: ReturnType<typeof dockerClientFromEnv> | undefined;
  const docker = (): ReturnType<typeof dockerClientFromEnv> => (client ??= dockerClientFromEnv(env));
  let findings: Finding[] = [];
  const progress = imageProgress(flags, env);
  try {
    for (const t of targets) findings.push(...(await scanTarget(t, flags, docker, progress.options)));
  } finally {
    progress.line?.clear();
  }
  if (flags.baseline) {
    let accepted: Set<string>;
    try {
      accepted = new Set(
        (JSON.parse(await readFile(flags.baseline, 'utf8')) as { fingerprints: string[] }).fingerprints,
      );
    } catch (err) {
      throw new KeylessError(
        'SCAN_BASELINE_INVALID',
        `cannot read the baseline ${flags.baseline} (${(err as Error).message}). Write one with --write-baseline.`,
      );
    }
    findings = findings.filter((f) => !accepted.has(f.fingerprint));
  }
  findings = dedupeFindings(findings);
  if (flags.verify) await verifyOwners(findings, env, flags.verifyProfile);
  if (flags.verifySignin) await verify(findings, env);
  for (const f of findings) {
    delete f.secretPair;
    delete f.rawKeyId;
  }
  findings = sortFindings(findings);
  if (flags.writeBaseline)
    await writeUserFile(
      '--write-baseline',
      flags.writeBaseline,
      JSON.stringify({ version: 1, fingerprints: findings.map((f) => f.fingerprint) }, null, 2),
      0o644,
    );
  const version = keylessVersion();
  const text =
    flags.format === 'json'
      ? renderJson(findings, version)
      : flags.format === 'sarif'
        ? renderSarif(findings, { version })
        : renderText(findings);
  if (flags.output) await writeUserFile('--output', flags.output, `${text}\n`, 0o644);
  else output.data(text);
  if (flags.failOn === 'never') return 0;
  const threshold = severityRank(flags.failOn as Severity);
  return findings.some((f) => severityRank(f.severity) >= threshold) ? 1 : 0;
}
