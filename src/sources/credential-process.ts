// credential_process: runs the command (split like a shell would, but without a shell) and reads the
// Version 1 JSON it prints.
import { execFile } from 'node:child_process';
import { KeylessError } from '../errors.js';
import { SourceErrorCode } from './errors.js';
import type { Credentials } from './types.js';

/** Splits a command line on whitespace, honouring single and double quotes and backslashes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}

export async function fromCredentialProcess(
  profile: string,
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<Credentials> {
  const [cmd, ...args] = splitCommand(command);
  if (!cmd)
    throw new KeylessError(
      SourceErrorCode.CONFIG_INVALID,
      `profile ${profile}: credential_process is empty. Give it the command that prints the credentials, or remove the line.`,
    );
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 1024 * 1024 }, (err, out, errOut) => {
      if (err) {
        reject(
          new KeylessError(
            SourceErrorCode.PROCESS_FAILED,
            `profile ${profile}: credential_process "${cmd}" failed (${err.message.split('\n')[0]})${errOut ? `: ${errOut.trim().slice(0, 300)}` : ''}. Run it by hand to see why, or fix credential_process in the AWS config file.`,
          ),
        );
      } else resolve(out);
    });
  });
  let parsed: {
    Version?: number;
    AccessKeyId?: string;
    SecretAccessKey?: string;
    SessionToken?: string;
    Expiration?: string;
  };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new KeylessError(
      SourceErrorCode.PROCESS_FAILED,
      `profile ${profile}: credential_process did not print JSON. Run it by hand: it must print the AWS credential_process JSON (Version 1) on stdout.`,
    );
  }
  if (parsed.Version !== 1 || !parsed.AccessKeyId || !parsed.SecretAccessKey) {
    throw new KeylessError(
      SourceErrorCode.PROCESS_FAILED,
      `profile ${profile}: credential_process output needs Version 1, AccessKeyId and SecretAccessKey. Run it by hand and check what it prints.`,
    );
  }
  return {
    accessKeyId: parsed.AccessKeyId,
    secretAccessKey: parsed.SecretAccessKey,
    ...(parsed.SessionToken ? { sessionToken: parsed.SessionToken } : {}),
    ...(parsed.Expiration ? { expiration: new Date(parsed.Expiration) } : {}),
  };
}
